/**
 * The dashboard's access to JMQT: `createClient()` makes one independent
 * connection (the SDK over a browser WebSocket) per client tab, to the broker
 * address in effect, with the SDK options every tab shares.
 */
import { Injectable, InjectionToken, inject } from '@angular/core';
import { BrowserWebSocketTransport, type JmqtClientOptions } from '../../../../shared/client';
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

  /** A new independent connection to the broker address in effect when it connects. */
  createClient(): JmqtConnection {
    return new JmqtConnection({ url: () => this.address.url(), transport: this.transport, options: this.options });
  }
}
