/**
 * MysqlStorage: Storage on MySQL or MariaDB, for brokers of a cluster that
 * share one database. Connections, call order and reads live here; how a
 * batch of writes is written is in mysql-batch.ts, the schema in mysql-schema.ts.
 */
import { createConnection, createPool, escapeId } from 'mysql2/promise';
import type { Connection, Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { QueuedMessage, QueuedPageEntry, RetainedMessage, Storage, StorageStats, SubscriptionRecord } from './storage';
import {
  COLLATIONS, schema, SESSION_SQL, BACKFILL_CLIENTS, DEADLOCK_ATTEMPTS, ER_LOCK_DEADLOCK, KEYS_PER_STATEMENT, channelHash, notOpen, settle, chunks, brokeConnection,
} from './mysql-schema';
import { applyBatch } from './mysql-batch';
import { BatchedWrites } from './batched-writes';
import { TickBatch } from './tick-batch';
import type { WriteOp, WriteResults } from './write-ops';

export interface MysqlStorageOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Created when missing, in utf8mb4 with a binary collation. */
  database: string;
  /** Most connections the pool opens. Default 10. */
  connectionLimit?: number;
  /** How long opening one connection may take before it fails, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * How long one statement may go unanswered before it fails and its
   * connection is dropped, in ms. Default 60000, above InnoDB's default
   * 50 s lock wait so the server's own error comes first.
   */
  queryTimeoutMs?: number;
}

/**
 * Storage on MySQL or MariaDB (InnoDB) through a mysql2 pool, for brokers
 * that share one database. Mirrors SqliteStorage: every write made within
 * one event-loop tick, plus those made while the previous batch was
 * committing, goes in a single transaction (TickBatch); callers resolve
 * after its COMMIT and are rejected together when it fails.
 *
 * Calls apply in the order they were made: a batch starts once every earlier
 * call has finished, a read once every earlier write has. Reads in a row run
 * side by side on the pool.
 *
 * A resolved enqueue is durable as far as the server is: keep InnoDB's
 * default `innodb_flush_log_at_trx_commit = 1`. `max_allowed_packet` must
 * exceed the largest message; batches are split into statements below it.
 */
export class MysqlStorage extends BatchedWrites implements Storage {
  private pool: Pool | undefined;
  private isOpen = false;
  /** Reads called since the last batch opened, which the next one must wait for. */
  private reads: Promise<void>[] = [];
  private readonly batch = new TickBatch<WriteOp, WriteResults>({
    apply: (ops) =>
      this.withConnection((c) => {
        const session = { exec: (sql: string, values?: unknown[]) => this.exec(c, sql, values), rows: (sql: string, values?: unknown[]) => this.rows(c, sql, values), statementChars: this.statementChars };
        return this.transaction(c, () => applyBatch(session, ops));
      }),
    // A batch waits for the reads made before its first write.
    opened: () => {
      if (this.reads.length === 0) return undefined;
      const reads = Promise.all(this.reads);
      this.reads = [];
      return reads;
    },
  });
  /** Pool connections whose session settings are made. */
  private readonly prepared = new WeakSet<object>();
  /** Characters one multi-row INSERT may carry (3 bytes each at worst, escaped). */
  private statementChars = 1 << 20;

  constructor(private readonly options: MysqlStorageOptions) {
    super();
  }

  private get queryTimeout(): number {
    return this.options.queryTimeoutMs ?? 60_000;
  }

  async open(): Promise<void> {
    if (this.pool) throw new Error('MysqlStorage is already open');
    const { host, port, user, password, database } = this.options;
    const connection = { host, port, user, password, connectTimeout: this.options.connectTimeoutMs ?? 5000, charset: 'UTF8MB4_BIN' };
    const admin = await createConnection(connection);
    admin.on('error', settle); // a drop between statements fails the next one instead
    try {
      const run = (sql: string, values?: unknown[]) => this.rows(admin, sql, values);
      const found = await run('SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (?)', [COLLATIONS]);
      const names = new Set(found.map((row) => row['name'] as string));
      const collation = COLLATIONS.find((name) => names.has(name)) ?? 'utf8mb4_bin';
      await run(`CREATE DATABASE IF NOT EXISTS ${escapeId(database)} CHARACTER SET utf8mb4 COLLATE ${collation}`);
      await run(`USE ${escapeId(database)}`);
      for (const sql of SESSION_SQL) await run(sql);
      for (const sql of schema(collation)) await run(sql);
      // DDL commits on its own, so this runs whenever clients is empty: also
      // after a crash between creating the table and filling it.
      if ((await run('SELECT 1 FROM clients LIMIT 1')).length === 0) await run(BACKFILL_CLIENTS, [Date.now()]);
      const [limits] = await run('SELECT @@max_allowed_packet AS packet');
      const packet = Math.min(Number(limits?.['packet'] ?? 0) || 4 << 20, 64 << 20);
      this.statementChars = Math.max(64 << 10, Math.floor((packet * 0.9) / 3));
    } finally {
      await admin.end().catch(() => admin.destroy());
    }
    this.pool = createPool({
      ...connection,
      database,
      connectionLimit: this.options.connectionLimit ?? 10,
      maxIdle: this.options.connectionLimit ?? 10,
      enableKeepAlive: true,
    });
    this.isOpen = true;
  }

  async close(): Promise<void> {
    if (!this.isOpen || !this.pool) return;
    this.isOpen = false;
    await Promise.all([this.batch.flush(), ...this.reads]);
    const pool = this.pool;
    this.pool = undefined;
    await pool.end();
  }

  /**
   * One `SELECT 1` on the pool, outside the call order so a health check is
   * not held up by queued work; fails after 5 s at most.
   */
  async ping(): Promise<void> {
    if (!this.isOpen) throw notOpen();
    await this.withConnection((c) => this.rows(c, 'SELECT 1', undefined, Math.min(this.queryTimeout, 5000)));
  }

  subscriptionsOf(clientId: string): Promise<SubscriptionRecord[]> {
    return this.read(async (c) => (await this.rows(c, 'SELECT client_id, channel, persistent FROM subscriptions WHERE client_id = ?', [clientId])).map(toRecord));
  }

  allSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.read(async (c) => (await this.rows(c, 'SELECT client_id, channel, persistent FROM subscriptions')).map(toRecord));
  }

  queuedFor(clientId: string): Promise<QueuedMessage[]> {
    return this.read(async (c) =>
      (await this.rows(c, 'SELECT id, channel, data, sender FROM queue WHERE client_id = ? ORDER BY seq', [clientId])).map(
        (row) => ({ id: row['id'], clientId, channel: row['channel'], data: row['data'], sender: row['sender'] }),
      ),
    );
  }

  queuedPage(clientId: string, after: number, limit: number): Promise<QueuedPageEntry[]> {
    return this.read(async (c) =>
      (await this.rows(c, 'SELECT seq, id, channel, data, sender FROM queue WHERE client_id = ? AND seq > ? ORDER BY seq LIMIT ?', [clientId, after, limit])).map(
        (row) => ({ seq: Number(row['seq']), id: row['id'], clientId, channel: row['channel'], data: row['data'], sender: row['sender'] }),
      ),
    );
  }

  queuedCount(clientId: string): Promise<number> {
    return this.read(async (c) => Number((await this.rows(c, 'SELECT COUNT(*) AS n FROM queue WHERE client_id = ?', [clientId]))[0]?.['n'] ?? 0));
  }

  retainedFor(channels: string[]): Promise<RetainedMessage[]> {
    const wanted = new Set(channels);
    return this.read(async (c) => {
      const out: RetainedMessage[] = [];
      for (const some of chunks([...wanted], KEYS_PER_STATEMENT)) {
        const found = await this.rows(c, 'SELECT channel, data, sender FROM retained WHERE channel_hash IN (?)', [some.map(channelHash)]);
        // The names again, against a hash collision.
        for (const row of found) if (wanted.has(row['channel'])) out.push(toRetained(row));
      }
      return out;
    });
  }

  allRetained(): Promise<RetainedMessage[]> {
    return this.read(async (c) => (await this.rows(c, 'SELECT channel, data, sender FROM retained')).map(toRetained));
  }

  stats(): Promise<StorageStats> {
    return this.read(async (c) => {
      const [row] = await this.rows(
        c,
        `SELECT (SELECT COUNT(*) FROM subscriptions) AS subscriptions, (SELECT COUNT(*) FROM retained) AS retained,
                (SELECT COUNT(*) FROM queue) AS queued`,
      );
      return { subscriptions: Number(row?.['subscriptions']), retained: Number(row?.['retained']), queued: Number(row?.['queued']) };
    });
  }

  queuedCounts(): Promise<Map<string, number>> {
    return this.read(async (c) =>
      new Map((await this.rows(c, 'SELECT client_id, COUNT(*) AS n FROM queue GROUP BY client_id')).map((row) => [row['client_id'] as string, Number(row['n'])])),
    );
  }

  protected get writable(): boolean {
    return this.isOpen;
  }

  protected addWrite<O extends WriteOp>(op: O): Promise<WriteResults[O['kind']]> {
    return this.batch.add(op);
  }

  protected notOpen(): Error {
    return notOpen();
  }

  /** Runs `work` once every earlier write is applied: reads in a row share the wait. */
  private read<T>(work: (c: PoolConnection) => Promise<T>): Promise<T> {
    if (!this.isOpen) return Promise.reject(notOpen());
    const done = this.batch.flush().then(() => this.withConnection(work));
    this.reads.push(done.then(settle, settle));
    if (this.reads.length > 1000) this.reads = [Promise.all(this.reads).then(settle)];
    return done;
  }

  private async withConnection<T>(work: (c: PoolConnection) => Promise<T>): Promise<T> {
    if (!this.pool) throw notOpen();
    const c = await this.pool.getConnection();
    try {
      if (!this.prepared.has(c.connection)) {
        for (const sql of SESSION_SQL) await this.exec(c, sql);
        this.prepared.add(c.connection);
      }
      const result = await work(c);
      c.release();
      return result;
    } catch (error) {
      if (brokeConnection(error)) c.destroy();
      else c.release();
      throw error;
    }
  }

  /** BEGIN … COMMIT, rolled back on failure; tried again when InnoDB picks it as a deadlock victim. */
  private async transaction<T>(c: PoolConnection, work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.exec(c, 'START TRANSACTION');
      try {
        const result = await work();
        await this.exec(c, 'COMMIT');
        return result;
      } catch (error) {
        if (brokeConnection(error)) throw error;
        try {
          await this.exec(c, 'ROLLBACK');
        } catch {
          c.destroy(); // the server rolls back when the connection goes
          throw error;
        }
        if ((error as { errno?: number }).errno !== ER_LOCK_DEADLOCK || attempt >= DEADLOCK_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  /** Every statement carries the query timeout: a silent server fails it instead of hanging. */
  private async rows(c: Connection, sql: string, values?: unknown[], timeout = this.queryTimeout): Promise<RowDataPacket[]> {
    return (await c.query<RowDataPacket[]>({ sql, timeout }, values))[0];
  }

  /** Answers the rows affected. */
  private async exec(c: Connection, sql: string, values?: unknown[]): Promise<number> {
    return (await c.query<ResultSetHeader>({ sql, timeout: this.queryTimeout }, values))[0].affectedRows;
  }
}

function toRecord(row: RowDataPacket): SubscriptionRecord {
  return { clientId: row['client_id'], channel: row['channel'], persistent: Number(row['persistent']) !== 0 };
}

function toRetained(row: RowDataPacket): RetainedMessage {
  return { channel: row['channel'], data: row['data'], sender: row['sender'] };
}
