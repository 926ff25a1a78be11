/**
 * Storage behind the broker: subscriptions, retained messages, the QoS 1
 * queues (protocol 7.4) and when each client was last seen.
 * Every backend (SQLite now, MySQL for clusters) implements this interface
 * and passes storage.contract.ts.
 *
 * Every write joins the backend's batch of the current event-loop tick
 * (tick-batch.ts): one transaction, one fsync per tick, applied in call
 * order, each call answering its own result or all of them rejecting
 * together. A read first writes what is pending, so it sees every earlier write.
 *
 * Data travels as JSON text: the broker serialises a message's `dt` once and
 * never parses it again on the way out.
 */

export interface SubscriptionRecord {
  clientId: string;
  channel: string;
  persistent: boolean;
}

/** One subscriber's copy of a QoS 1 message, waiting for its pushAck. */
export interface QueuedMessage {
  /** Server-generated id the push carries and the pushAck echoes; unique per client. */
  id: string;
  clientId: string;
  channel: string;
  /** `dt` as JSON text. */
  data: string;
  /** Publisher's client id, `""` when the server published. */
  sender: string;
}

/** A queued copy and its position in the client's queue (insertion order). */
export interface QueuedPageEntry extends QueuedMessage {
  seq: number;
}

export interface RetainedMessage {
  channel: string;
  data: string;
  sender: string;
}

/** What expireClients removed for one client id. */
export interface ExpiredClient {
  clientId: string;
  /** Subscriptions deleted. */
  subscriptions: number;
  /** Queued QoS 1 copies deleted. */
  queued: number;
}

export interface StorageStats {
  subscriptions: number;
  retained: number;
  queued: number;
}

export interface Storage {
  /** Creates the schema when missing; must be called once before anything else. */
  open(): Promise<void>;
  /** Flushes what is pending and releases the backend. */
  close(): Promise<void>;
  /** Resolves when the backend answers, rejects when it is unreachable (health checks). */
  ping(): Promise<void>;

  /**
   * Adds or updates (the persistent flag) one subscription. Also records the
   * client as seen now when it has no last-seen time yet, so a client the
   * server subscribed without it ever connecting still expires one day.
   */
  subscribe(record: SubscriptionRecord): Promise<void>;
  /**
   * Removes one subscription and the client's queued QoS 1 messages on that
   * channel. Answers whether the subscription existed.
   */
  unsubscribe(clientId: string, channel: string): Promise<boolean>;
  /**
   * Protocol 5.9: at session end the non-persistent subscriptions go,
   * with the messages queued for this client on those channels. Answers the
   * channels removed.
   */
  removeTemporary(clientId: string): Promise<string[]>;
  /** Every temporary subscription of every client: after a restart no session is left to own them. */
  removeAllTemporary(): Promise<number>;
  subscriptionsOf(clientId: string): Promise<SubscriptionRecord[]>;
  /** Every subscription, for the broker's in-memory routing index at start. */
  allSubscriptions(): Promise<SubscriptionRecord[]>;

  /**
   * Stores one copy per subscriber. Resolves only once the copies are
   * durable: the broker sends pubAck after this and never before.
   */
  enqueue(messages: QueuedMessage[]): Promise<void>;
  /** Deletes one copy (pushAck). Answers whether it was there. */
  acknowledge(clientId: string, id: string): Promise<boolean>;
  /** A client's queued copies, oldest first. */
  queuedFor(clientId: string): Promise<QueuedMessage[]>;
  /**
   * At most `limit` of a client's queued copies after position `after` (0: from the
   * start), oldest first, each with its position: session-start replay reads
   * a queue in pages, so a long queue never sits in memory whole.
   */
  queuedPage(clientId: string, after: number, limit: number): Promise<QueuedPageEntry[]>;
  /** How many copies wait for one client. */
  queuedCount(clientId: string): Promise<number>;
  /** Deletes a client's `count` oldest copies (queue limit, drop-oldest policy). Answers how many went. */
  dropOldest(clientId: string, count: number): Promise<number>;

  /** Keeps the latest retained message of a channel, replacing the one before. */
  retain(message: RetainedMessage): Promise<void>;
  /** Protocol 7.9 decision: a retained pub with `dt: null` clears the channel. */
  clearRetained(channel: string): Promise<void>;
  /** Retained messages of the channels named that have one, in no particular order. */
  retainedFor(channels: string[]): Promise<RetainedMessage[]>;
  allRetained(): Promise<RetainedMessage[]>;

  /** Records `at` (ms since epoch) as the time each of these clients was last seen. */
  touchClients(clientIds: string[], at: number): Promise<void>;
  /**
   * Forgets at most `limit` clients last seen before `before` (ms since
   * epoch), oldest first: their subscriptions, their queued copies and their
   * last-seen time. The time is checked in the same transaction as the
   * delete, so a touch made earlier keeps the client. Answers what went, per client.
   */
  expireClients(before: number, limit: number): Promise<ExpiredClient[]>;

  stats(): Promise<StorageStats>;
  /** Queued QoS 1 copies per client, for the operator API. */
  queuedCounts(): Promise<Map<string, number>>;
}
