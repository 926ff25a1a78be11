import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { QueuedMessage, RetainedMessage, Storage, StorageStats, SubscriptionRecord } from './storage';

export interface SqliteStorageOptions {
  /** Database file; its parent folder is created when missing. */
  path: string;
  /**
   * SQLite `synchronous` pragma. Default `'full'`: a resolved enqueue survives
   * a power cut. `'normal'` still survives a killed process, not a power cut.
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another process's lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
}

type Op =
  | { kind: 'enqueue'; messages: QueuedMessage[]; resolve: () => void; reject: (error: unknown) => void }
  | { kind: 'ack'; clientId: string; id: string; resolve: (found: boolean) => void; reject: (error: unknown) => void };

// The queue's INTEGER PRIMARY KEY is the insertion order, which is the
// delivery order (JMQT 5: stored QoS 1 messages go out oldest first).
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS subscriptions (
    client_id  TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    persistent INTEGER NOT NULL,
    PRIMARY KEY (client_id, channel)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS queue (
    seq       INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    channel   TEXT NOT NULL,
    data      TEXT NOT NULL,
    sender    TEXT NOT NULL
  );
  -- Also serves queuedFor and unsubscribe, which read one client's copies: a
  -- second index would cost as much again per copy written (fsync'd pages).
  CREATE UNIQUE INDEX IF NOT EXISTS queue_client_id ON queue (client_id, id);
  -- A rowid table, unlike subscriptions: retained data can be large, and
  -- WITHOUT ROWID suits only small rows.
  CREATE TABLE IF NOT EXISTS retained (
    channel TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    sender  TEXT NOT NULL
  );
`;

interface SubscriptionRow {
  clientId: string;
  channel: string;
  persistent: number;
}

const toRecord = (row: SubscriptionRow): SubscriptionRecord => ({
  clientId: row.clientId,
  channel: row.channel,
  persistent: row.persistent !== 0,
});

/**
 * Storage on one SQLite file (better-sqlite3, WAL). Enqueues and
 * acknowledgements made within one event-loop tick are written in a single
 * transaction, so one fsync covers a whole fan-out burst. Every other call
 * first writes what is pending, so operations apply in the order they were made.
 */
export class SqliteStorage implements Storage {
  private db: Database.Database | undefined;
  private statements: ReturnType<SqliteStorage['prepare']> | undefined;
  private pending: Op[] = [];
  private flushTimer: NodeJS.Immediate | undefined;

  constructor(private readonly options: SqliteStorageOptions) {}

  async open(): Promise<void> {
    if (this.db) throw new Error('SqliteStorage is already open');
    const { path } = this.options;
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.options.busyTimeoutMs ?? 5000))}`);
      db.exec(SCHEMA);
      this.statements = this.prepare(db);
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
  }

  async close(): Promise<void> {
    if (!this.db) return;
    this.flush();
    this.db.close();
    this.db = undefined;
    this.statements = undefined;
  }

  async ping(): Promise<void> {
    this.ready();
  }

  async subscribe(record: SubscriptionRecord): Promise<void> {
    this.ready().subscribe.run(record.clientId, record.channel, record.persistent ? 1 : 0);
  }

  async unsubscribe(clientId: string, channel: string): Promise<boolean> {
    return this.ready().unsubscribe.immediate(clientId, channel);
  }

  async removeTemporary(clientId: string): Promise<string[]> {
    return this.ready().removeTemporary.immediate(clientId);
  }

  async removeAllTemporary(): Promise<number> {
    return this.ready().removeAllTemporary.immediate();
  }

  async subscriptionsOf(clientId: string): Promise<SubscriptionRecord[]> {
    return (this.ready().subscriptionsOf.all(clientId) as SubscriptionRow[]).map(toRecord);
  }

  async allSubscriptions(): Promise<SubscriptionRecord[]> {
    return (this.ready().allSubscriptions.all() as SubscriptionRow[]).map(toRecord);
  }

  /**
   * Resolves after the transaction holding these copies has committed. The
   * array is read when the batch is written (later in this tick), not copied.
   * A copy whose (clientId, id) is already queued is left as it was.
   */
  enqueue(messages: QueuedMessage[]): Promise<void> {
    if (!this.db) return Promise.reject(new Error('SqliteStorage is not open'));
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ kind: 'enqueue', messages, resolve, reject });
      this.schedule();
    });
  }

  acknowledge(clientId: string, id: string): Promise<boolean> {
    if (!this.db) return Promise.reject(new Error('SqliteStorage is not open'));
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ kind: 'ack', clientId, id, resolve, reject });
      this.schedule();
    });
  }

  async queuedFor(clientId: string): Promise<QueuedMessage[]> {
    return this.ready().queuedFor.all(clientId) as QueuedMessage[];
  }

  async queuedCount(clientId: string): Promise<number> {
    return this.ready().queuedCount.get(clientId) as number;
  }

  async dropOldest(clientId: string, count: number): Promise<number> {
    if (count <= 0) return 0;
    return this.ready().dropOldest.run(clientId, clientId, count).changes;
  }

  async retain(message: RetainedMessage): Promise<void> {
    this.ready().retain.run(message.channel, message.data, message.sender);
  }

  async clearRetained(channel: string): Promise<void> {
    this.ready().clearRetained.run(channel);
  }

  async retainedFor(channels: string[]): Promise<RetainedMessage[]> {
    if (channels.length === 0) return [];
    // One statement whatever the count: the names travel as a JSON array.
    return this.ready().retainedFor.all(JSON.stringify(channels)) as RetainedMessage[];
  }

  async allRetained(): Promise<RetainedMessage[]> {
    return this.ready().allRetained.all() as RetainedMessage[];
  }

  async stats(): Promise<StorageStats> {
    return this.ready().stats.get() as StorageStats;
  }

  async queuedCounts(): Promise<Map<string, number>> {
    const rows = this.ready().queuedCounts.raw().all() as [string, number][];
    return new Map(rows);
  }

  /** Statements are prepared once per open; better-sqlite3 reuses them. */
  private prepare(db: Database.Database) {
    const deleteQueuedOnChannel = db.prepare('DELETE FROM queue WHERE client_id = ? AND channel = ?');
    const deleteSubscription = db.prepare('DELETE FROM subscriptions WHERE client_id = ? AND channel = ?');
    const temporaryOf = db.prepare('SELECT channel FROM subscriptions WHERE client_id = ? AND persistent = 0').pluck();
    const deleteQueuedOnTemporary = db.prepare(
      `DELETE FROM queue WHERE client_id = ? AND channel IN
         (SELECT channel FROM subscriptions WHERE client_id = ? AND persistent = 0)`,
    );
    const deleteTemporaryOf = db.prepare('DELETE FROM subscriptions WHERE client_id = ? AND persistent = 0');
    const deleteAllQueuedOnTemporary = db.prepare(
      `DELETE FROM queue WHERE EXISTS (SELECT 1 FROM subscriptions s
         WHERE s.client_id = queue.client_id AND s.channel = queue.channel AND s.persistent = 0)`,
    );
    const deleteAllTemporary = db.prepare('DELETE FROM subscriptions WHERE persistent = 0');
    // A duplicate (client_id, id) keeps the first copy instead of failing the
    // whole batch, which also holds other publishers' messages.
    const insertQueued = db.prepare(
      `INSERT INTO queue (client_id, id, channel, data, sender) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (client_id, id) DO NOTHING`,
    );
    const deleteQueued = db.prepare('DELETE FROM queue WHERE client_id = ? AND id = ?');
    const subscriptionColumns = 'client_id AS clientId, channel, persistent';

    return {
      subscribe: db.prepare(
        `INSERT INTO subscriptions (client_id, channel, persistent) VALUES (?, ?, ?)
         ON CONFLICT (client_id, channel) DO UPDATE SET persistent = excluded.persistent`,
      ),
      // JMQT 5: unsubscribing drops the client's queued copies on that channel.
      unsubscribe: db.transaction((clientId: string, channel: string): boolean => {
        deleteQueuedOnChannel.run(clientId, channel);
        return deleteSubscription.run(clientId, channel).changes > 0;
      }),
      // JMQT 5 "Sessions": temporary subscriptions leave with their queued copies.
      removeTemporary: db.transaction((clientId: string): string[] => {
        const channels = temporaryOf.all(clientId) as string[];
        if (channels.length === 0) return channels;
        deleteQueuedOnTemporary.run(clientId, clientId);
        deleteTemporaryOf.run(clientId);
        return channels;
      }),
      removeAllTemporary: db.transaction((): number => {
        deleteAllQueuedOnTemporary.run();
        return deleteAllTemporary.run().changes;
      }),
      subscriptionsOf: db.prepare(`SELECT ${subscriptionColumns} FROM subscriptions WHERE client_id = ?`),
      allSubscriptions: db.prepare(`SELECT ${subscriptionColumns} FROM subscriptions`),
      applyOps: db.transaction((ops: Op[], found: boolean[]): void => {
        for (const op of ops) {
          if (op.kind === 'ack') {
            found.push(deleteQueued.run(op.clientId, op.id).changes > 0);
            continue;
          }
          for (const m of op.messages) insertQueued.run(m.clientId, m.id, m.channel, m.data, m.sender);
          found.push(true);
        }
      }),
      queuedFor: db.prepare(
        'SELECT id, client_id AS clientId, channel, data, sender FROM queue WHERE client_id = ? ORDER BY seq',
      ),
      retain: db.prepare(
        `INSERT INTO retained (channel, data, sender) VALUES (?, ?, ?)
         ON CONFLICT (channel) DO UPDATE SET data = excluded.data, sender = excluded.sender`,
      ),
      clearRetained: db.prepare('DELETE FROM retained WHERE channel = ?'),
      retainedFor: db.prepare(
        'SELECT channel, data, sender FROM retained WHERE channel IN (SELECT value FROM json_each(?))',
      ),
      allRetained: db.prepare('SELECT channel, data, sender FROM retained'),
      stats: db.prepare(
        `SELECT (SELECT count(*) FROM subscriptions) AS subscriptions,
                (SELECT count(*) FROM retained) AS retained,
                (SELECT count(*) FROM queue) AS queued`,
      ),
      queuedCounts: db.prepare('SELECT client_id, count(*) FROM queue GROUP BY client_id'),
      queuedCount: db.prepare('SELECT count(*) FROM queue WHERE client_id = ?').pluck(),
      dropOldest: db.prepare(
        'DELETE FROM queue WHERE client_id = ? AND seq IN (SELECT seq FROM queue WHERE client_id = ? ORDER BY seq LIMIT ?)',
      ),
    };
  }

  /** Writes what is pending, so a direct call sees every earlier enqueue and acknowledge. */
  private ready() {
    if (!this.statements) throw new Error('SqliteStorage is not open');
    this.flush();
    return this.statements;
  }

  private schedule(): void {
    // setImmediate rather than a microtask: it runs after the poll phase, so
    // the batch also gathers the pubs of every socket read in this loop turn.
    this.flushTimer ??= setImmediate(() => {
      this.flushTimer = undefined;
      this.flush();
    });
  }

  private flush(): void {
    if (this.flushTimer) {
      clearImmediate(this.flushTimer);
      this.flushTimer = undefined;
    }
    const ops = this.pending;
    if (ops.length === 0 || !this.statements) return;
    this.pending = [];
    const found: boolean[] = [];
    try {
      // IMMEDIATE takes the write lock up front, so busy_timeout applies
      // instead of a deadlock error when another process holds it.
      this.statements.applyOps.immediate(ops, found);
    } catch (error) {
      for (const op of ops) op.reject(error);
      return;
    }
    ops.forEach((op, i) => (op.kind === 'ack' ? op.resolve(found[i]!) : op.resolve()));
  }
}
