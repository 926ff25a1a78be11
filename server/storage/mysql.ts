import { createConnection, createPool, escapeId } from 'mysql2/promise';
import type { Connection, Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { QueuedMessage, RetainedMessage, Storage, StorageStats, SubscriptionRecord } from './storage';
import {
  COLLATIONS, schema, SESSION_SQL, DEADLOCK_ATTEMPTS, ER_LOCK_DEADLOCK, KEYS_PER_STATEMENT, channelHash, notOpen, settle, nextTurn, chunks, brokeConnection,
} from './mysql-schema';

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

type Op =
  | { kind: 'enqueue'; messages: QueuedMessage[]; resolve: () => void; reject: (error: unknown) => void }
  | { kind: 'ack'; clientId: string; id: string; resolve: (found: boolean) => void; reject: (error: unknown) => void };

/**
 * Storage on MySQL or MariaDB (InnoDB) through a mysql2 pool, for brokers
 * that share one database. Mirrors SqliteStorage: enqueues and
 * acknowledgements made within one event-loop tick, plus those made while
 * the previous batch was committing, go in a single transaction; callers
 * resolve after its COMMIT and are rejected together when it fails.
 *
 * Calls apply in the order they were made: a write starts once every earlier
 * call has finished, a read once every earlier write has. Reads in a row run
 * side by side on the pool.
 *
 * A resolved enqueue is durable as far as the server is: keep InnoDB's
 * default `innodb_flush_log_at_trx_commit = 1`. `max_allowed_packet` must
 * exceed the largest message; batches are split into statements below it.
 */
export class MysqlStorage implements Storage {
  private pool: Pool | undefined;
  private isOpen = false;
  /** Settles once every write called so far has. */
  private writes: Promise<void> = Promise.resolve();
  /** Reads called since the last write, which it must wait for. */
  private reads: Promise<void>[] = [];
  /** The batch still gathering: the last call made, not started yet. */
  private batch: Op[] | undefined;
  /** Pool connections whose session settings are made. */
  private readonly prepared = new WeakSet<object>();
  /** Characters one multi-row INSERT may carry (3 bytes each at worst, escaped). */
  private statementChars = 1 << 20;

  constructor(private readonly options: MysqlStorageOptions) {}

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
    this.batch = undefined;
    await Promise.all([this.writes, ...this.reads]);
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

  subscribe(record: SubscriptionRecord): Promise<void> {
    return this.write(async (c) => {
      await this.exec(
        c,
        `INSERT INTO subscriptions (client_id, channel_hash, channel, persistent) VALUES (?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE persistent = VALUES(persistent)`,
        [record.clientId, channelHash(record.channel), record.channel, record.persistent],
      );
    });
  }

  // JMQT 5: unsubscribing drops the client's queued copies on that channel.
  unsubscribe(clientId: string, channel: string): Promise<boolean> {
    return this.write((c) =>
      this.transaction(c, async () => {
        await this.exec(c, 'DELETE FROM queue WHERE client_id = ? AND channel = ?', [clientId, channel]);
        return (await this.exec(c, 'DELETE FROM subscriptions WHERE client_id = ? AND channel_hash = ?', [clientId, channelHash(channel)])) > 0;
      }),
    );
  }

  // JMQT 5 "Sessions": temporary subscriptions leave with their queued copies.
  removeTemporary(clientId: string): Promise<string[]> {
    return this.write((c) =>
      this.transaction(c, async () => {
        const found = await this.rows(c, 'SELECT channel FROM subscriptions WHERE client_id = ? AND persistent = 0 FOR UPDATE', [clientId]);
        const channels = found.map((row) => row['channel'] as string);
        for (const some of chunks(channels, KEYS_PER_STATEMENT))
          await this.exec(c, 'DELETE FROM queue WHERE client_id = ? AND channel IN (?)', [clientId, some]);
        if (channels.length > 0) await this.exec(c, 'DELETE FROM subscriptions WHERE client_id = ? AND persistent = 0', [clientId]);
        return channels;
      }),
    );
  }

  removeAllTemporary(): Promise<number> {
    return this.write((c) =>
      this.transaction(c, async () => {
        await this.exec(c, 'DELETE q FROM queue q JOIN subscriptions s ON s.client_id = q.client_id AND s.channel = q.channel WHERE s.persistent = 0');
        return this.exec(c, 'DELETE FROM subscriptions WHERE persistent = 0');
      }),
    );
  }

  subscriptionsOf(clientId: string): Promise<SubscriptionRecord[]> {
    return this.read(async (c) => (await this.rows(c, 'SELECT client_id, channel, persistent FROM subscriptions WHERE client_id = ?', [clientId])).map(toRecord));
  }

  allSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.read(async (c) => (await this.rows(c, 'SELECT client_id, channel, persistent FROM subscriptions')).map(toRecord));
  }

  /**
   * Resolves after the transaction holding these copies has committed. The
   * array is read when the batch is written (a later tick), not copied.
   * A copy whose (clientId, id) is already queued is left as it was.
   */
  enqueue(messages: QueuedMessage[]): Promise<void> {
    if (!this.isOpen) return Promise.reject(notOpen());
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.gather({ kind: 'enqueue', messages, resolve, reject }));
  }

  acknowledge(clientId: string, id: string): Promise<boolean> {
    if (!this.isOpen) return Promise.reject(notOpen());
    return new Promise<boolean>((resolve, reject) => this.gather({ kind: 'ack', clientId, id, resolve, reject }));
  }

  queuedFor(clientId: string): Promise<QueuedMessage[]> {
    return this.read(async (c) =>
      (await this.rows(c, 'SELECT id, channel, data, sender FROM queue WHERE client_id = ? ORDER BY seq', [clientId])).map(
        (row) => ({ id: row['id'], clientId, channel: row['channel'], data: row['data'], sender: row['sender'] }),
      ),
    );
  }

  queuedCount(clientId: string): Promise<number> {
    return this.read(async (c) => Number((await this.rows(c, 'SELECT COUNT(*) AS n FROM queue WHERE client_id = ?', [clientId]))[0]?.['n'] ?? 0));
  }

  dropOldest(clientId: string, count: number): Promise<number> {
    if (count <= 0) return this.isOpen ? Promise.resolve(0) : Promise.reject(notOpen());
    return this.write((c) => this.exec(c, 'DELETE FROM queue WHERE client_id = ? ORDER BY seq LIMIT ?', [clientId, Math.floor(count)]));
  }

  retain(message: RetainedMessage): Promise<void> {
    const { channel, data, sender } = message;
    return this.write(async (c) => {
      await this.exec(
        c,
        `INSERT INTO retained (channel_hash, channel, data, sender) VALUES (?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE channel = VALUES(channel), data = VALUES(data), sender = VALUES(sender)`,
        [channelHash(channel), channel, data, sender],
      );
    });
  }

  clearRetained(channel: string): Promise<void> {
    return this.write(async (c) => void (await this.exec(c, 'DELETE FROM retained WHERE channel_hash = ?', [channelHash(channel)])));
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

  /** Adds an enqueue or acknowledge to the batch still gathering, or starts one. */
  private gather(op: Op): void {
    if (this.batch) {
      this.batch.push(op);
      return;
    }
    const ops: Op[] = [op];
    // setImmediate rather than a microtask, as in SqliteStorage: the batch
    // also gathers the pubs of every socket read in this loop turn.
    const done = this.write(async (c) => {
      if (this.batch === ops) this.batch = undefined;
      return this.transaction(c, () => this.applyOps(c, ops));
    }, true);
    this.batch = ops;
    done.then(
      (found) => ops.forEach((o, i) => (o.kind === 'ack' ? o.resolve(found[i]!) : o.resolve())),
      (error: unknown) => ops.forEach((o) => o.reject(error)),
    );
  }

  private async applyOps(c: PoolConnection, ops: Op[]): Promise<boolean[]> {
    const found: boolean[] = [];
    for (let i = 0; i < ops.length; ) {
      const copies: QueuedMessage[] = [];
      for (let op = ops[i]; op?.kind === 'enqueue'; op = ops[++i]) {
        for (const m of op.messages) copies.push(m);
        found.push(true);
      }
      if (copies.length > 0) await this.insertQueued(c, copies);
      const acks: { clientId: string; id: string }[] = [];
      for (let op = ops[i]; op?.kind === 'ack'; op = ops[++i]) acks.push(op);
      if (acks.length > 0) found.push(...(await this.deleteQueued(c, acks)));
    }
    return found;
  }

  /** Multi-row INSERTs, each below max_allowed_packet. */
  private async insertQueued(c: PoolConnection, copies: QueuedMessage[]): Promise<void> {
    // A duplicate (client_id, id) keeps the first copy instead of failing the
    // whole batch, which also holds other publishers' messages. Not INSERT
    // IGNORE: that would also turn a too-long value into a truncation.
    const sql = `INSERT INTO queue (client_id, id, channel, data, sender) VALUES ? ON DUPLICATE KEY UPDATE seq = seq`;
    let rows: unknown[][] = [];
    let chars = 0;
    for (const m of copies) {
      const row = [m.clientId, m.id, m.channel, m.data, m.sender];
      // mysql2 would write another type as something else; SQLite refuses it.
      if (!row.every((v) => typeof v === 'string')) throw new TypeError(`queued copy ${String(m.id)}: every field must be a string`);
      const size = m.clientId.length + m.id.length + m.channel.length + m.data.length + m.sender.length + 32;
      if (rows.length > 0 && chars + size > this.statementChars) {
        await this.exec(c, sql, [rows]);
        rows = [];
        chars = 0;
      }
      rows.push(row);
      chars += size;
    }
    await this.exec(c, sql, [rows]);
  }

  /**
   * Deletes a run of acknowledgements one by one through the unique
   * (client_id, id) key, in key order: each statement locks exactly its own row,
   * and every node takes its locks in the same order, so acknowledgements from
   * several nodes cannot deadlock one another. A repeated ack answers false the
   * second time, as it would alone.
   */
  private async deleteQueued(c: PoolConnection, acks: { clientId: string; id: string }[]): Promise<boolean[]> {
    const order = acks.map((ack, index) => ({ ack, index }))
      .sort((a, b) => compareKeys(a.ack.clientId, b.ack.clientId) || compareKeys(a.ack.id, b.ack.id));
    const found = new Array<boolean>(acks.length);
    for (const { ack, index } of order) {
      found[index] = (await this.exec(c, 'DELETE FROM queue WHERE client_id = ? AND id = ?', [ack.clientId, ack.id])) > 0;
    }
    return found;
  }

  /** Runs `work` after every earlier write: reads in a row share the wait. */
  private read<T>(work: (c: PoolConnection) => Promise<T>): Promise<T> {
    if (!this.isOpen) return Promise.reject(notOpen());
    this.batch = undefined;
    const done = this.writes.then(() => this.withConnection(work));
    this.reads.push(done.then(settle, settle));
    if (this.reads.length > 1000) this.reads = [Promise.all(this.reads).then(settle)];
    return done;
  }

  /** Runs `work` after every earlier call, optionally one loop turn later still. */
  private write<T>(work: (c: PoolConnection) => Promise<T>, nextTick = false): Promise<T> {
    if (!this.isOpen) return Promise.reject(notOpen());
    this.batch = undefined;
    const before = this.reads.length > 0 ? Promise.all([this.writes, ...this.reads]) : this.writes;
    this.reads = [];
    const done = (nextTick ? before.then(nextTurn) : before).then(() => this.withConnection(work));
    this.writes = done.then(settle, settle);
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

/** Binary order, as the utf8mb4 binary collation of the keys sorts them. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function toRecord(row: RowDataPacket): SubscriptionRecord {
  return { clientId: row['client_id'], channel: row['channel'], persistent: Number(row['persistent']) !== 0 };
}

function toRetained(row: RowDataPacket): RetainedMessage {
  return { channel: row['channel'], data: row['data'], sender: row['sender'] };
}
