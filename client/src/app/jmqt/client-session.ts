/**
 * One client tab's state and actions: its own JMQT connection, log,
 * subscription chips and push rate. Plain TypeScript, so the components stay
 * thin and the behaviour is testable without a DOM.
 */
import { signal, type WritableSignal } from '@angular/core';
import type { Subscription } from 'rxjs';
import { JmqtError, Status, statusName, type Json, type PubOptions } from '../../../../shared/client';
import { channelKind } from '../../../../shared/channel';
import { RateSeries } from '../ui/rate-series';
import type { JmqtConnection, SubscriptionKinds } from './jmqt-connection';
import { answerEntry, failureEntry, infoEntry, pushEntry, type LogEntry } from './log-line';
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
      connection.disconnect$.subscribe(({ reason, willReconnect }) => {
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

  /** The original page's sequence: auth with `client_name`, conn with the token, then the chips. */
  async connect(name: string): Promise<boolean> {
    const clientName = name.trim();
    this.clientName.set(clientName);
    this.log.add(infoEntry('Authenticating JMQT client..'));
    try {
      const auth = await this.connection.auth({ client_name: clientName });
      if (auth.status !== Status.OK || !auth.clientId || !auth.token) {
        const message = auth.message ? `, Message ${auth.message}` : '';
        return this.fail(`JMQT client authentication FAILED. Status ${statusName(auth.status)} (${auth.status})${message}`);
      }
      this.log.add(infoEntry('JMQT client authentication OK. Sending connect request..'));
      const conn = await this.connection.conn(auth.clientId, auth.token);
      if (conn.status !== Status.OK) return this.fail(`JMQT client connect FAILED. Status ${statusName(conn.status)} (${conn.status})`);
      this.log.add(infoEntry('JMQT client connect OK.', 'ok'));
      this.active.set(true);
      await this.refreshSubscriptions();
      return true;
    } catch (error) {
      const status = error instanceof JmqtError ? error.status : Status.UNKNOWN;
      return this.fail(`JMQT client connect FAILED. Status ${statusName(status)} (${status}): ${(error as Error).message}`);
    }
  }

  async publish(channel: string, data: Json, options: PubOptions): Promise<boolean> {
    const name = channel.trim();
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
      else this.add({ kind: 'error', text: `Receiving my subscriptions FAILED. Status ${statusName(answer.status)} (${answer.status}).` });
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
  private async fail(text: string): Promise<false> {
    this.log.add(infoEntry(text, 'error'));
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
