/**
 * The dashboard's access to JMQT: the SDK over a browser WebSocket. The
 * service itself is one default connection (push$, disconnect$, state
 * signals, promise methods); `createClient(name)` makes further independent
 * connections, one per client tab.
 */
import { Injectable, InjectionToken, inject } from '@angular/core';
import {
  BrowserWebSocketTransport,
  type AuthAnswer, type ConnAnswer, type JmqtClientOptions, type Json, type PubAnswer, type PubOptions, type SubAnswer,
} from '../../../../shared/client';
import { BrokerAddress } from './broker-address';
import { JmqtConnection, type TransportFactory } from './jmqt-connection';

/** Builds each connection's transport; tests provide a fake one. */
export const JMQT_TRANSPORT_FACTORY = new InjectionToken<TransportFactory>('JMQT transport factory', {
  providedIn: 'root',
  factory: () => (url: string) => new BrowserWebSocketTransport(url),
});

/** SDK options of every connection: reconnect with the default backoff, heartbeat from connAck `ts`. */
export const JMQT_CLIENT_OPTIONS = new InjectionToken<JmqtClientOptions>('JMQT client options', {
  providedIn: 'root',
  factory: () => ({ reconnect: true, requestTimeoutMs: 10_000 }),
});

@Injectable({ providedIn: 'root' })
export class JmqtService {
  private readonly address = inject(BrokerAddress);
  private readonly transport = inject(JMQT_TRANSPORT_FACTORY);
  private readonly options = inject(JMQT_CLIENT_OPTIONS);

  /** The connection behind the service's own members. */
  readonly connection: JmqtConnection = this.createClient('default');

  readonly push$ = this.connection.push$;
  readonly disconnect$ = this.connection.disconnect$;
  readonly state = this.connection.state;
  readonly clientId = this.connection.clientId;
  readonly timeoutSeconds = this.connection.timeoutSeconds;
  readonly lastHeartbeatAt = this.connection.lastHeartbeatAt;
  readonly lastPacketAt = this.connection.lastPacketAt;

  /** A new independent connection to the broker address in effect when it connects. */
  createClient(name: string): JmqtConnection {
    return new JmqtConnection(name, { url: () => this.address.url(), transport: this.transport, options: this.options });
  }

  auth(data: Json): Promise<AuthAnswer> {
    return this.connection.auth(data);
  }

  conn(clientId: string, token: string): Promise<ConnAnswer> {
    return this.connection.conn(clientId, token);
  }

  sub(channel: string, persistent = false): Promise<SubAnswer> {
    return this.connection.sub(channel, persistent);
  }

  unsub(channel: string): Promise<SubAnswer> {
    return this.connection.unsub(channel);
  }

  pub(channel: string, data: Json, options?: PubOptions): Promise<PubAnswer> {
    return this.connection.pub(channel, data, options);
  }

  disconnect(sendDisconn = true): Promise<void> {
    return this.connection.disconnect(sendDisconn);
  }
}
