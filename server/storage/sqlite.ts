/**
 * SqliteStorage: Storage on one SQLite file, for a broker alone on its
 * machine. Its writes go through the shared TickBatch (tick-batch.ts).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { QueuedMessage, QueuedPageEntry, RetainedMessage, Storage, StorageStats, SubscriptionRecord } from './storage';
import { BatchedWrites } from './batched-writes';
import { TickBatch } from './tick-batch';
import type { OpOf, WriteKind, WriteOp, WriteResults } from './write-ops';

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

// The queue's INTEGER PRIMARY KEY is the insertion order, which is the
// delivery order (protocol 5.5: stored QoS 1 messages go out oldest first).
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
  -- When each client was last seen, in ms since epoch (expireClients).
  CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT    PRIMARY KEY,
    last_seen INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS clients_last_seen ON clients (last_seen);
`;

// A database made before the clients table: every client it knows counts as
// seen at the upgrade, so expiry starts from then.
const BACKFILL_CLIENTS = `
  INSERT INTO clients (client_id, last_seen)
  SELECT client_id, ? FROM (SELECT client_id FROM subscriptions UNION SELECT client_id FROM queue)
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

/** Applies one op of each kind; the batch's transaction is around them. */
type Appliers = { [K in WriteKind]: (op: OpOf<K>) => WriteResults[K] };

/**
 * Storage on one SQLite file (better-sqlite3, WAL). Every write made within
 * one event-loop tick goes into a single transaction (TickBatch), so one
 * fsync covers a whole burst: a fan-out, or thousands of retained pubs. Every
 * read first writes what is pending, so calls apply in the order they were made.
 */
export class SqliteStorage extends BatchedWrites implements Storage {
  private db: Database.Database | undefined;
  private statements: ReturnType<SqliteStorage['prepare']> | undefined;
  private readonly batch = new TickBatch<WriteOp, WriteResults>({
    // IMMEDIATE takes the write lock up front, so busy_timeout applies
    // instead of a deadlock error when another process holds it.
    apply: (ops) => {
      if (!this.statements) throw notOpen();
      return this.statements.applyOps.immediate(ops);
    },
  });

  constructor(private readonly options: SqliteStorageOptions) {
    super();
  }

  async open(): Promise<void> {
    if (this.db) throw new Error('SqliteStorage is already open');
    const { path } = this.options;
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.options.busyTimeoutMs ?? 5000))}`);
      // One transaction: another process opening the same file at the same
      // time creates and fills the clients table only once.
      db.transaction(() => {
        const upgrading = !db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'clients'`).get();
        db.exec(SCHEMA);
        if (upgrading) db.prepare(BACKFILL_CLIENTS).run(Date.now());
      }).immediate();
      this.statements = this.prepare(db);
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
  }

  async close(): Promise<void> {
    if (!this.db) return;
    this.batch.flush();
    this.db.close();
    this.db = undefined;
    this.statements = undefined;
  }

  async ping(): Promise<void> {
    this.ready();
  }

  async subscriptionsOf(clientId: string): Promise<SubscriptionRecord[]> {
    return (this.ready().subscriptionsOf.all(clientId) as SubscriptionRow[]).map(toRecord);
  }

  async allSubscriptions(): Promise<SubscriptionRecord[]> {
    return (this.ready().allSubscriptions.all() as SubscriptionRow[]).map(toRecord);
  }

  async queuedFor(clientId: string): Promise<QueuedMessage[]> {
    return this.ready().queuedFor.all(clientId) as QueuedMessage[];
  }

  async queuedPage(clientId: string, after: number, limit: number): Promise<QueuedPageEntry[]> {
    return this.ready().queuedPage.all(clientId, after, limit) as QueuedPageEntry[];
  }

  async queuedCount(clientId: string): Promise<number> {
    return this.ready().queuedCount.get(clientId) as number;
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
    const subscribe = db.prepare(
      `INSERT INTO subscriptions (client_id, channel, persistent) VALUES (?, ?, ?)
       ON CONFLICT (client_id, channel) DO UPDATE SET persistent = excluded.persistent`,
    );
    const seenFirst = db.prepare('INSERT INTO clients (client_id, last_seen) VALUES (?, ?) ON CONFLICT (client_id) DO NOTHING');
    const touch = db.prepare(
      'INSERT INTO clients (client_id, last_seen) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET last_seen = excluded.last_seen',
    );
    const expiring = db.prepare('SELECT client_id FROM clients WHERE last_seen < ? ORDER BY last_seen, client_id LIMIT ?').pluck();
    const deleteClient = db.prepare('DELETE FROM clients WHERE client_id = ?');
    const deleteSubscriptionsOf = db.prepare('DELETE FROM subscriptions WHERE client_id = ?');
    const deleteQueuedOf = db.prepare('DELETE FROM queue WHERE client_id = ?');
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
    const dropOldest = db.prepare(
      'DELETE FROM queue WHERE client_id = ? AND seq IN (SELECT seq FROM queue WHERE client_id = ? ORDER BY seq LIMIT ?)',
    );
    const retain = db.prepare(
      `INSERT INTO retained (channel, data, sender) VALUES (?, ?, ?)
       ON CONFLICT (channel) DO UPDATE SET data = excluded.data, sender = excluded.sender`,
    );
    const clearRetained = db.prepare('DELETE FROM retained WHERE channel = ?');
    const subscriptionColumns = 'client_id AS clientId, channel, persistent';

    const apply: Appliers = {
      subscribe: ({ record, at }) => {
        subscribe.run(record.clientId, record.channel, record.persistent ? 1 : 0);
        seenFirst.run(record.clientId, at);
      },
      // Protocol 6.6: unsubscribing drops the client's queued copies on that channel.
      unsubscribe: ({ clientId, channel }) => {
        deleteQueuedOnChannel.run(clientId, channel);
        return deleteSubscription.run(clientId, channel).changes > 0;
      },
      // Protocol 5.9: temporary subscriptions leave with their queued copies.
      removeTemporary: ({ clientId }) => {
        const channels = temporaryOf.all(clientId) as string[];
        if (channels.length === 0) return channels;
        deleteQueuedOnTemporary.run(clientId, clientId);
        deleteTemporaryOf.run(clientId);
        return channels;
      },
      removeAllTemporary: () => {
        deleteAllQueuedOnTemporary.run();
        return deleteAllTemporary.run().changes;
      },
      enqueue: ({ messages }) => {
        for (const m of messages) insertQueued.run(m.clientId, m.id, m.channel, m.data, m.sender);
      },
      acknowledge: ({ clientId, id }) => deleteQueued.run(clientId, id).changes > 0,
      dropOldest: ({ clientId, count }) => dropOldest.run(clientId, clientId, count).changes,
      retain: ({ message }) => void retain.run(message.channel, message.data, message.sender),
      clearRetained: ({ channel }) => void clearRetained.run(channel),
      touchClients: ({ clientIds, at }) => {
        for (const clientId of clientIds) touch.run(clientId, at);
      },
      // Selected inside the batch's transaction: a touch earlier in it keeps its client.
      expireClients: ({ before, limit }) =>
        (expiring.all(before, limit) as string[]).map((clientId) => {
          const queued = deleteQueuedOf.run(clientId).changes;
          const subscriptions = deleteSubscriptionsOf.run(clientId).changes;
          deleteClient.run(clientId);
          return { clientId, subscriptions, queued };
        }),
    };

    return {
      applyOps: db.transaction((ops: WriteOp[]): unknown[] => ops.map((op) => apply[op.kind](op as never))),
      subscriptionsOf: db.prepare(`SELECT ${subscriptionColumns} FROM subscriptions WHERE client_id = ?`),
      allSubscriptions: db.prepare(`SELECT ${subscriptionColumns} FROM subscriptions`),
      queuedFor: db.prepare(
        'SELECT id, client_id AS clientId, channel, data, sender FROM queue WHERE client_id = ? ORDER BY seq',
      ),
      queuedPage: db.prepare(
        'SELECT seq, id, client_id AS clientId, channel, data, sender FROM queue WHERE client_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
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
    };
  }

  protected get writable(): boolean {
    return this.db !== undefined;
  }

  protected addWrite<O extends WriteOp>(op: O): Promise<WriteResults[O['kind']]> {
    return this.batch.add(op);
  }

  protected notOpen(): Error {
    return notOpen();
  }

  /** Writes what is pending, so a read sees every earlier write. */
  private ready() {
    if (!this.statements) throw notOpen();
    this.batch.flush();
    return this.statements;
  }
}

const notOpen = () => new Error('SqliteStorage is not open');
