/**
 * Protocol 11.7: the persistent state (subscriptions, queued QoS 1 copies) of
 * a client id unseen for SESSION_EXPIRY_SECONDS is removed. When each id was
 * last seen is kept in storage, so the time counts across restarts (unlike
 * Mosquitto's expiry, which counts within one run).
 */
import type { Config } from './config';
import type { Connection } from './connection';
import type { Logger } from './log';
import { quote } from './log-text';
import type { QueueDepths } from './queue-depths';
import type { Router } from './routing/router';
import type { BrokerCounters } from './stats';
import type { Storage } from './storage/storage';
import type { SubscriptionIndex } from './subscription-index';

/** Client ids expired per storage call. */
const BATCH = 500;
/** Longest wait between two runs, ms. */
const MAX_INTERVAL_MS = 10 * 60_000;

export interface ExpiryParts {
  config: Pick<Config, 'SESSION_EXPIRY_SECONDS'>;
  storage: Pick<Storage, 'touchClients' | 'expireClients' | 'subscriptionsOf'>;
  sessions: ReadonlyMap<string, Connection>;
  index: SubscriptionIndex;
  router: Pick<Router, 'unsubscribed'>;
  queues: QueueDepths;
  counters: BrokerCounters;
  log: Logger;
  /** An expired client id lost `copies` queued QoS 1 copies (its trace and counters, admin API). */
  lost?(clientId: string, copies: number): void;
}

export class ClientExpiry {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly parts: ExpiryParts) {}

  private get expiryMs(): number {
    return this.parts.config.SESSION_EXPIRY_SECONDS * 1000;
  }

  /** Runs every half SESSION_EXPIRY_SECONDS, at most every 10 minutes; not at all with 0. */
  start(): void {
    if (this.expiryMs === 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      this.run()
        .catch((error: Error) => this.parts.log.error(`expiring unseen client ids: ${error.message}`))
        .finally(() => this.start());
    }, Math.min(MAX_INTERVAL_MS, Math.max(1000, this.expiryMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Session start and end: the client id was seen now. Written with the tick's batch. */
  touch(clientId: string): void {
    this.parts.storage.touchClients([clientId], Date.now()).catch((error: Error) => {
      this.parts.log.error(`recording when ${quote(clientId)} was last seen: ${error.message}`);
    });
  }

  /**
   * Removes what ids unseen for the expiry hold; answers how many ids went.
   * Live sessions are marked seen first, so one longer than the expiry keeps its state.
   */
  async run(now = Date.now()): Promise<number> {
    if (this.expiryMs === 0) return 0;
    const { storage, sessions, counters, log } = this.parts;
    if (sessions.size > 0) await storage.touchClients([...sessions.keys()], now);
    let ids = 0;
    let subscriptions = 0;
    let copies = 0;
    for (;;) {
      const expired = await storage.expireClients(now - this.expiryMs, BATCH);
      for (const gone of expired) {
        await this.forget(gone.clientId);
        this.parts.lost?.(gone.clientId, gone.queued);
        subscriptions += gone.subscriptions;
        copies += gone.queued;
      }
      ids += expired.length;
      if (expired.length < BATCH) break;
    }
    if (ids === 0) return 0;
    counters.expiredClients += ids;
    counters.expiredSubscriptions += subscriptions;
    counters.expiredCopies += copies;
    log.info(`expired ${ids} client id(s) unseen for SESSION_EXPIRY_SECONDS (${this.expiryMs / 1000} s): ${subscriptions} subscription(s) and ${copies} queued QoS 1 cop(ies) removed`);
    return ids;
  }

  /** Takes an expired id out of the index; one that came back meanwhile keeps what storage still holds for it. */
  private async forget(clientId: string): Promise<void> {
    const { index, router, queues, storage, sessions } = this.parts;
    const held = sessions.has(clientId) ? new Set((await storage.subscriptionsOf(clientId)).map((record) => record.channel)) : new Set<string>();
    const gone = [...(index.channelsOf(clientId)?.keys() ?? [])].filter((channel) => !held.has(channel));
    for (const channel of gone) index.remove(clientId, channel);
    router.unsubscribed(clientId, gone);
    if (sessions.has(clientId)) await queues.reload(clientId);
    else queues.forget(clientId);
  }
}
