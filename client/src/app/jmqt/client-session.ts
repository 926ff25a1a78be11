/**
 * One client tab's state and actions: its own JMQT connection, log,
 * subscription chips and push rate. Plain TypeScript, so the components stay
 * thin and the behaviour is testable without a DOM.
 */
import { signal, type WritableSignal } from '@angular/core';
import type { Subscription } from 'rxjs';
import {
  createIdGenerator, JmqtError, Status, type AuthAnswer, type ConnAnswer, type Json, type PubAckEvent, type PubOptions,
} from '../../../../shared/client';
import { channelKind } from '../../../../shared/channel';
import { RateSeries } from '../ui/rate-series';
import type { JmqtConnection, SubscriptionKinds } from './jmqt-connection';
import {
  answerEntry, authAckEntry, authAckPacket, failureEntry, infoEntry, pushEntry, sentEntry, statusText, type LogEntry,
} from './log-line';
import { LogStore } from './log-store';

export interface SubscriptionChip {
  channel: string;
  kind: 'persistent' | 'temp';
}

export interface ClientSessionOptions {
  /** How often the push rate is sampled, ms; 0 turns sampling off. Default 1000. */
  sampleMs?: number;
  log?: LogStore;
}

/** QoS 0 pubs whose refusal is still awaited; past this the oldest are forgotten (their lines stay "sent"). */
export const SENT_PUBS_KEPT = 1000;

/** The `$mySubscriptions` answer as chips, in the order the broker lists them. */
function chipsOf(kinds: SubscriptionKinds): SubscriptionChip[] {
  return Object.entries(kinds).map(([channel, kind]) => ({ channel, kind }));
}

export class ClientSession {
  readonly log: LogStore;
  /** Refreshed from `$mySubscriptions` after connect, sub and unsub (protocol 6.5). */
  readonly subscriptions = signal<readonly SubscriptionChip[]>([]);
  /** The name in the Client Name field; the one sent in auth `client_name` (protocol 9.1). */
  readonly clientName: WritableSignal<string>;
  /**
   * The Auth data field's own text (auth `dt`, protocol 3.2); null while it is the
   * default, `{"client_name": "<Client Name>"}`. Kept here so it outlives the connect form.
   */
  readonly authText = signal<string | null>(null);
  /** The `client_name` the last auth sent; null when it sent none (other auth data, or Connect with token). */
  readonly authName = signal<string | null>(null);
  /** The whole answer to the last auth (protocol 3.2): status, client id, token, message. */
  readonly lastAuthAck = signal<AuthAnswer | null>(null);
  /** The answer to the last conn (protocol 3.3); null while connecting, and when no connAck came. */
  readonly lastConnAck = signal<ConnAnswer | null>(null);
  /** auth / conn in flight: the Connect buttons wait. */
  readonly connecting = signal(false);
  /** Connected, or the SDK is renewing the session: the publish row shows instead of Connect. */
  readonly active = signal(false);
  /** Pushes per second received by this client. */
  readonly rate = new RateSeries(60);
  private readonly events: Subscription[] = [];
  private readonly sampler: ReturnType<typeof setInterval> | undefined;
  /** The link dropped and the SDK is renewing it (reconnect option). */
  private renewing = false;
  /** Closing the link after a refused auth/conn: the failure line already says it all. */
  private quietClose = false;
  /** Ids for QoS 0 pubs, so that a refusal comes back (protocol 7.2). */
  private readonly nextPubId = createIdGenerator();
  /** QoS 0 pubs logged as "sent", by pub id: a refusal rewrites their line. */
  private readonly sentPubs = new Map<string, { seq: number; channel: string }>();

  constructor(
    /** Stable id of the tab. */
    readonly id: number,
    /** Tab title, e.g. `Client 1`. */
    readonly title: string,
    readonly connection: JmqtConnection,
    defaultName: string,
    options: ClientSessionOptions = {},
  ) {
    this.log = options.log ?? new LogStore();
    this.clientName = signal(defaultName);
    this.events.push(
      connection.push$.subscribe((push) => this.log.add(pushEntry(push))),
      connection.pubAck$.subscribe((ack) => this.showRefusal(ack)),
      connection.disconnect$.subscribe(({ reason, willReconnect }) => {
        // The broker answers a pub on the connection it came by: these can no longer be refused.
        this.sentPubs.clear();
        const why = reason === 'client disconnect' ? '' : `: ${reason}`;
        const next = willReconnect ? ' Reconnecting..' : '';
        if (!this.quietClose) this.log.add(infoEntry(`JMQT client disconnected${why}.${next}`, why ? 'error' : 'info'));
        if (!willReconnect) {
          this.subscriptions.set([]);
          this.active.set(false);
        }
      }),
      connection.state$.subscribe(({ state }) => {
        if (state === 'reconnecting') this.renewing = true;
        else if (state === 'closed') this.renewing = false;
        else if (state === 'session' && this.renewing) {
          // The SDK renewed the session on its own (auth, conn, temporary subs): say so and reload the chips.
          this.renewing = false;
          this.log.add(infoEntry('JMQT client reconnected.', 'ok'));
          void this.afterReconnect();
        }
      }),
    );
    const sampleMs = options.sampleMs ?? 1000;
    if (sampleMs > 0) {
      this.rate.sample(0, Date.now());
      this.sampler = setInterval(() => this.rate.sample(connection.pushCount, Date.now()), sampleMs);
    }
  }

  /**
   * The original page's sequence: auth (by default with `client_name`, else with
   * `authData`, any JSON: protocol 3.2), conn with the token, then the chips.
   */
  connect(name: string, authData?: Json): Promise<boolean> {
    const clientName = name.trim();
    this.clientName.set(clientName);
    const data = authData === undefined ? { client_name: clientName } : authData;
    return this.whileConnecting(async () => {
      this.log.add(infoEntry('Authenticating JMQT client..'));
      try {
        const auth = await this.connection.auth(data);
        this.lastAuthAck.set(auth);
        if (auth.status !== Status.OK || !auth.clientId || !auth.token) {
          const message = auth.message ? `, Message ${auth.message}` : '';
          return this.fail(`JMQT client authentication FAILED. ${statusText(auth.status)}${message}`, authAckPacket(auth));
        }
        this.log.add(authAckEntry(auth));
        this.log.add(infoEntry('JMQT client authentication OK. Sending connect request..'));
        this.authName.set(clientNameOf(data));
        return await this.openSession(auth.clientId, auth.token);
      } catch (error) {
        return this.fail(connectFailure(error));
      }
    });
  }

  /**
   * Skips auth: conn with a client id and token at hand (pasted, forged, expired:
   * the connection hook judges them, protocol 5.2; the sample application answers 6).
   */
  connectWithToken(clientId: string, token: string): Promise<boolean> {
    return this.whileConnecting(async () => {
      this.log.add(infoEntry(`Connecting JMQT client '${clientId}' with a given token..`));
      try {
        await this.connection.open();
        this.authName.set(null);
        return await this.openSession(clientId, token);
      } catch (error) {
        return this.fail(connectFailure(error));
      }
    });
  }

  /** Logs the answer; true when the broker took it (QoS 0: once written and not refused so far, protocol 7.2). */
  async publish(channel: string, data: Json, options: PubOptions): Promise<boolean> {
    const name = channel.trim();
    if ((options.qos ?? 0) === 0 && channelKind(name) !== 'control') return this.publishQos0(name, data, options);
    try {
      const answer = await this.connection.pub(name, data, options);
      // Protocol 6.3: a control channel answers with data; show it.
      const response = channelKind(name) === 'control' ? (answer.data ?? null) : undefined;
      this.log.add(answerEntry('Publish to', name, answer.status, response));
      if (name === '$mySubscriptions' && answer.status === Status.OK) void this.refreshSubscriptions();
      return answer.status === Status.OK;
    } catch (error) {
      this.log.add(failureEntry('Publish to', name, error));
      return false;
    }
  }

  async subscribe(channel: string, persistent: boolean): Promise<boolean> {
    return this.request('Subscribe to', channel.trim(), () => this.connection.sub(channel, persistent));
  }

  async unsubscribe(channel: string): Promise<boolean> {
    return this.request('Unsubscribe from', channel, () => this.connection.unsub(channel));
  }

  /** `$mySubscriptions` → the chips. */
  async refreshSubscriptions(): Promise<void> {
    try {
      const answer = await this.connection.subscriptions();
      if (answer.status === Status.OK) this.subscriptions.set(chipsOf(answer.channels));
      else this.add({ kind: 'error', text: `Receiving my subscriptions FAILED. ${statusText(answer.status)}.` });
    } catch (error) {
      this.add({ kind: 'error', text: `Receiving my subscriptions FAILED: ${(error as Error).message}` });
    }
  }

  /**
   * The SDK renews the temporary subscriptions after a reconnect without
   * saying when they are done; asking `$mySubscriptions` at once could list
   * the channels before they are back. So the chips' temporary channels are
   * subscribed again here (a repeated sub is harmless) and the list is asked
   * for once those acks are in.
   */
  private async afterReconnect(): Promise<void> {
    const temporary = this.subscriptions()
      .filter((chip) => chip.kind === 'temp')
      .map((chip) => chip.channel);
    await Promise.allSettled(temporary.map((channel) => this.connection.sub(channel, false)));
    await this.refreshSubscriptions();
  }

  /** Sends `disconn` and closes; the disconnect line comes from the connection's event. */
  async disconnect(): Promise<void> {
    await this.connection.disconnect(true);
    this.subscriptions.set([]);
    this.active.set(false);
  }

  destroy(): void {
    clearInterval(this.sampler);
    for (const subscription of this.events) subscription.unsubscribe();
    this.connection.destroy();
    this.log.dispose();
  }

  private add(entry: LogEntry): void {
    this.log.add(entry);
  }

  /**
   * Protocol 7.2: a QoS 0 pub with an id is answered only when refused, so
   * it is logged as "sent" (nothing says OK) and a refusal, whenever it
   * comes, rewrites that line. The line is written before the pub: the
   * refusal may be handled before the write's promise settles.
   */
  private async publishQos0(name: string, data: Json, options: PubOptions): Promise<boolean> {
    const id = this.nextPubId();
    const { seq } = this.log.add(sentEntry(name));
    this.sentPubs.set(id, { seq, channel: name });
    if (this.sentPubs.size > SENT_PUBS_KEPT) this.sentPubs.delete(this.sentPubs.keys().next().value!);
    try {
      const answer = await this.connection.pub(name, data, { ...options, qos: 0, id });
      // Written; false when its refusal came in meanwhile (or the link went: no refusal can come then).
      if (answer.status === Status.OK) return this.sentPubs.has(id);
      // Refused without a round trip (a name that is no name, protocol 6.1).
      this.sentPubs.delete(id);
      this.rewrite(seq, answerEntry('Publish to', name, answer.status));
    } catch (error) {
      this.sentPubs.delete(id);
      this.rewrite(seq, failureEntry('Publish to', name, error));
    }
    return false;
  }

  /** A pubAck nobody waited for: when it answers one of our QoS 0 pubs, its "sent" line now says so. */
  private showRefusal(ack: PubAckEvent): void {
    const sent = this.sentPubs.get(ack.id);
    if (!sent) return;
    this.sentPubs.delete(ack.id);
    this.rewrite(sent.seq, answerEntry('Publish to', sent.channel, ack.status));
  }

  /** Rewrites a line; when it is gone (cleared, dropped) the news gets a line of its own. */
  private rewrite(seq: number, entry: LogEntry): void {
    if (!this.log.update(seq, entry)) this.log.add(entry);
  }

  /** conn (protocol 5.2), then the chips; shared by both ways of connecting. */
  private async openSession(clientId: string, token: string): Promise<boolean> {
    const conn = await this.connection.conn(clientId, token);
    this.lastConnAck.set(conn);
    if (conn.status !== Status.OK) return this.fail(`JMQT client connect FAILED. ${statusText(conn.status)}`);
    this.log.add(infoEntry('JMQT client connect OK.', 'ok'));
    this.active.set(true);
    await this.refreshSubscriptions();
    return true;
  }

  private async whileConnecting(work: () => Promise<boolean>): Promise<boolean> {
    if (this.connecting()) return false;
    this.connecting.set(true);
    this.lastConnAck.set(null);
    try {
      return await work();
    } finally {
      this.connecting.set(false);
    }
  }

  private async request(action: 'Subscribe to' | 'Unsubscribe from', channel: string, call: () => Promise<{ status: number }>): Promise<boolean> {
    try {
      const answer = await call();
      this.log.add(answerEntry(action, channel, answer.status));
      if (this.connection.state() === 'session') await this.refreshSubscriptions();
      return answer.status === Status.OK;
    } catch (error) {
      this.log.add(failureEntry(action, channel, error));
      return false;
    }
  }

  /** Logs why connecting failed and drops the half-open link (no reconnect loop on a refusal). */
  private async fail(text: string, data?: Json): Promise<false> {
    this.log.add(data === undefined ? infoEntry(text, 'error') : { kind: 'error', text, data });
    this.active.set(false);
    this.quietClose = true;
    try {
      await this.connection.disconnect(false);
    } catch {
      // Already closed.
    } finally {
      this.quietClose = false;
    }
    return false;
  }
}

/** The `client_name` of auth data, when it has one (protocol 9.1). */
function clientNameOf(data: Json): string | null {
  const name = data && typeof data === 'object' && !Array.isArray(data) ? data['client_name'] : undefined;
  return typeof name === 'string' ? name.trim() : null;
}

/** No answer came: the SDK's error status (9 network, -1 timeout) and its reason. */
function connectFailure(error: unknown): string {
  const status = error instanceof JmqtError ? error.status : Status.UNKNOWN;
  return `JMQT client connect FAILED. ${statusText(status)}: ${(error as Error).message}`;
}
