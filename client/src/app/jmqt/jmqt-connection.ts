/**
 * One client connection of the dashboard: the SDK's JmqtClient with its
 * state as signals and its events as Observables. Each connect after a
 * close builds a fresh transport, so a changed broker address applies.
 */
import { computed, signal } from '@angular/core';
import { Observable, Subject } from 'rxjs';
import {
  JmqtClient, JmqtError, Status,
  type AuthAnswer, type ClientState, type ConnAnswer, type DisconnectEvent, type JmqtClientOptions, type Json,
  type PubAckEvent, type PubAnswer, type PubOptions, type PushEvent, type StateEvent, type SubAnswer, type Transport,
} from '../../../../shared/client';

/** Makes the transport for one connection to `url` (default: BrowserWebSocketTransport). */
export type TransportFactory = (url: string) => Transport;

/** What `$mySubscriptions` answers (protocol 6.5): channel name → kind. */
export type SubscriptionKinds = Record<string, 'persistent' | 'temp'>;

export interface JmqtConnectionDeps {
  /** The WebSocket URL to use at the next connect. */
  url: () => string;
  transport: TransportFactory;
  options: JmqtClientOptions;
  /** Clock in ms; default Date.now. */
  now?: () => number;
}

/** Protocol 3.4: `{"hbAck":{}}`; the SDK does not report it, so the raw text is checked. */
const HB_ACK = /^\s*\{\s*"hbAck"/;

export class JmqtConnection {
  private readonly pushes = new Subject<PushEvent>();
  private readonly disconnects = new Subject<DisconnectEvent>();
  private readonly states = new Subject<StateEvent>();
  private readonly lateAcks = new Subject<PubAckEvent>();
  private readonly stateValue = signal<ClientState>('closed');
  private readonly clientIdValue = signal<string | null>(null);
  private readonly timeoutValue = signal<number | null>(null);
  private readonly heartbeatValue = signal<number | null>(null);
  private readonly packetValue = signal<number | null>(null);
  private readonly urlValue = signal<string | null>(null);
  private readonly now: () => number;
  private client: JmqtClient | null = null;
  private detach: Array<() => void> = [];
  private pushTotal = 0;

  /** Every message the server pushes (`push`, protocol 3.8); QoS 1 pushes are already acknowledged. */
  readonly push$: Observable<PushEvent> = this.pushes.asObservable();
  /** An open connection ended (`willReconnect` says whether the SDK tries again). */
  readonly disconnect$: Observable<DisconnectEvent> = this.disconnects.asObservable();
  /** Every state change of the SDK client. */
  readonly state$: Observable<StateEvent> = this.states.asObservable();
  /** pubAcks no request waits for: above all the refusal of a QoS 0 pub sent with an id (protocol 7.2). */
  readonly pubAck$: Observable<PubAckEvent> = this.lateAcks.asObservable();

  /** `closed` → `connecting` → `open` (no session yet) → `session`; `reconnecting` between attempts. */
  readonly state = this.stateValue.asReadonly();
  /** Client id of the last successful conn. */
  readonly clientId = this.clientIdValue.asReadonly();
  /** connAck `ts`: the server's idle timeout in seconds. */
  readonly timeoutSeconds = this.timeoutValue.asReadonly();
  /** When the last `hbAck` arrived (ms since the epoch). */
  readonly lastHeartbeatAt = this.heartbeatValue.asReadonly();
  /** When the last packet of any kind arrived. */
  readonly lastPacketAt = this.packetValue.asReadonly();
  /** The URL of the current (or last) connection. */
  readonly url = this.urlValue.asReadonly();
  readonly inSession = computed(() => this.stateValue() === 'session');

  constructor(private readonly deps: JmqtConnectionDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Pushes received since this connection object was made (for rate meters). */
  get pushCount(): number {
    return this.pushTotal;
  }

  /** Opens the transport (no auth, no session yet) when it is closed, e.g. to conn with a token at hand. */
  open(): Promise<void> {
    try {
      return this.ensureClient().open();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Protocol 5.1: asks for a client id and token; opens the transport first when closed. */
  auth(data: Json): Promise<AuthAnswer> {
    return this.ensureClient().auth(data);
  }

  /** Protocol 5.2: opens the session with a client id and token (from auth, or pasted); needs an open link. */
  async conn(clientId: string, token: string): Promise<ConnAnswer> {
    const answer = await this.requireClient().conn(clientId, token);
    if (answer.status === Status.OK) {
      this.clientIdValue.set(clientId);
      this.timeoutValue.set(answer.ts ?? null);
    }
    return answer;
  }

  sub(channel: string, persistent = false): Promise<SubAnswer> {
    return this.withClient((client) => client.sub(channel, persistent));
  }

  unsub(channel: string): Promise<SubAnswer> {
    return this.withClient((client) => client.unsub(channel));
  }

  /**
   * Publishes; resolves with the pubAck (QoS 1, `$` channels) or `{status: 1}` once a QoS 0 pub is
   * written. A QoS 0 pub with `options.id` is answered only when refused, on `pubAck$`.
   */
  pub(channel: string, data: Json, options: PubOptions = {}): Promise<PubAnswer> {
    return this.withClient((client) => client.pub(channel, data, options));
  }

  /** The built-in control channel `$mySubscriptions` (protocol 6.5): this client's channels and their kind. */
  async subscriptions(): Promise<{ status: number; channels: SubscriptionKinds }> {
    const answer = await this.pub('$mySubscriptions', {});
    const data = answer.data;
    const channels = data && typeof data === 'object' && !Array.isArray(data) ? data['channels'] : null;
    const kinds: SubscriptionKinds = {};
    if (channels && typeof channels === 'object' && !Array.isArray(channels)) {
      for (const [name, kind] of Object.entries(channels)) kinds[name] = kind === 'persistent' ? 'persistent' : 'temp';
    }
    return { status: answer.status, channels: kinds };
  }

  /** Ends the connection and stops reconnecting; `sendDisconn` (default true) tells the server first. */
  async disconnect(sendDisconn = true): Promise<void> {
    await this.client?.disconnect(sendDisconn);
  }

  /** Closes the connection without `disconn` and completes the Observables. */
  destroy(): void {
    void this.client?.disconnect(false);
    this.release();
    this.pushes.complete();
    this.disconnects.complete();
    this.states.complete();
    this.lateAcks.complete();
  }

  /** The current SDK client, or a new one over a fresh transport when there is none or it is closed. */
  private ensureClient(): JmqtClient {
    if (this.client && this.client.state !== 'closed') return this.client;
    this.release();
    const url = this.deps.url();
    const transport = this.deps.transport(url);
    const client = new JmqtClient(transport, this.deps.options);
    this.detach = [
      client.on('push', (event) => {
        this.pushTotal++;
        this.pushes.next(event);
      }),
      client.on('disconnect', (event) => this.disconnects.next(event)),
      client.on('pubAck', (event) => this.lateAcks.next(event)),
      client.on('state', (event) => {
        this.stateValue.set(event.state);
        this.states.next(event);
      }),
      transport.on('message', (text) => {
        const at = this.now();
        this.packetValue.set(at);
        if (HB_ACK.test(text)) this.heartbeatValue.set(at);
      }),
    ];
    this.client = client;
    this.urlValue.set(url);
    this.heartbeatValue.set(null);
    this.packetValue.set(null);
    return client;
  }

  private requireClient(): JmqtClient {
    if (!this.client) throw JmqtError.network('not connected (state closed)');
    return this.client;
  }

  private withClient<T>(call: (client: JmqtClient) => Promise<T>): Promise<T> {
    try {
      return call(this.requireClient());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private release(): void {
    for (const off of this.detach) off();
    this.detach = [];
    this.client = null;
  }
}
