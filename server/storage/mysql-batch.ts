/**
 * How MysqlStorage (mysql.ts) writes one TickBatch inside its transaction:
 * ops in call order, each run of one kind in as few statements as it can
 * (one fan-out's copies, or a flood of retained pubs, in a few multi-row INSERTs).
 */
import type { RowDataPacket } from 'mysql2/promise';
import type { QueuedMessage } from './storage';
import { KEYS_PER_STATEMENT, channelHash, chunks } from './mysql-schema';
import type { OpOf, WriteKind, WriteOp, WriteResults } from './write-ops';

/** The transaction's connection. */
export interface Session {
  /** Answers the rows affected. */
  exec(sql: string, values?: unknown[]): Promise<number>;
  rows(sql: string, values?: unknown[]): Promise<RowDataPacket[]>;
  /** Characters one multi-row INSERT may carry, below max_allowed_packet. */
  statementChars: number;
}

/** Writes one run of ops of one kind; answers one result per op. */
type Appliers = { [K in WriteKind]: (s: Session, ops: OpOf<K>[]) => Promise<WriteResults[K][]> };

/** Answers one result per op, in order. */
export async function applyBatch(s: Session, ops: WriteOp[]): Promise<unknown[]> {
  const results: unknown[] = [];
  for (let start = 0; start < ops.length; ) {
    const kind = ops[start]!.kind;
    let end = start + 1;
    while (ops[end]?.kind === kind) end++;
    for (const result of await appliers[kind](s, ops.slice(start, end) as never)) results.push(result);
    start = end;
  }
  return results;
}

/** Runs `each` on every op, one after another. */
const oneByOne =
  <K extends WriteKind>(each: (s: Session, op: OpOf<K>) => Promise<WriteResults[K]>) =>
  async (s: Session, ops: OpOf<K>[]): Promise<WriteResults[K][]> => {
    const out: WriteResults[K][] = [];
    for (const op of ops) out.push(await each(s, op));
    return out;
  };

const appliers: Appliers = {
  subscribe: async (s, ops) => {
    await insertRows(
      s,
      `INSERT INTO subscriptions (client_id, channel_hash, channel, persistent) VALUES ?
       ON DUPLICATE KEY UPDATE persistent = VALUES(persistent)`,
      ops.map(({ record }) => [record.clientId, channelHash(record.channel), record.channel, record.persistent]),
    );
    // A client seen for the first time; one already seen keeps its time.
    await insertRows(
      s,
      'INSERT INTO clients (client_id, last_seen) VALUES ? ON DUPLICATE KEY UPDATE last_seen = last_seen',
      sortedKeys(new Map(ops.map(({ record, at }) => [record.clientId, at]))),
    );
    return ops.map(() => undefined);
  },

  // Protocol 6.6: unsubscribing drops the client's queued copies on that channel.
  unsubscribe: oneByOne(async (s, { clientId, channel }) => {
    await s.exec('DELETE FROM queue WHERE client_id = ? AND channel = ?', [clientId, channel]);
    return (await s.exec('DELETE FROM subscriptions WHERE client_id = ? AND channel_hash = ?', [clientId, channelHash(channel)])) > 0;
  }),

  // Protocol 5.9: temporary subscriptions leave with their queued copies.
  removeTemporary: oneByOne(async (s, { clientId }) => {
    const found = await s.rows('SELECT channel FROM subscriptions WHERE client_id = ? AND persistent = 0 FOR UPDATE', [clientId]);
    const channels = found.map((row) => row['channel'] as string);
    for (const some of chunks(channels, KEYS_PER_STATEMENT))
      await s.exec('DELETE FROM queue WHERE client_id = ? AND channel IN (?)', [clientId, some]);
    if (channels.length > 0) await s.exec('DELETE FROM subscriptions WHERE client_id = ? AND persistent = 0', [clientId]);
    return channels;
  }),

  removeAllTemporary: oneByOne(async (s) => {
    await s.exec('DELETE q FROM queue q JOIN subscriptions s ON s.client_id = q.client_id AND s.channel = q.channel WHERE s.persistent = 0');
    return s.exec('DELETE FROM subscriptions WHERE persistent = 0');
  }),

  enqueue: async (s, ops) => {
    const copies: QueuedMessage[] = [];
    for (const op of ops) for (const m of op.messages) copies.push(m);
    await insertQueued(s, copies);
    return ops.map(() => undefined);
  },

  acknowledge: (s, ops) => deleteQueued(s, ops),

  dropOldest: oneByOne((s, { clientId, count }) => s.exec('DELETE FROM queue WHERE client_id = ? ORDER BY seq LIMIT ?', [clientId, count])),

  // The last message per channel wins, as it would one by one; rows go in
  // hash order, so two nodes retaining the same channels lock them alike.
  retain: async (s, ops) => {
    const latest = new Map(ops.map(({ message }) => [message.channel, message]));
    const rows = [...latest.values()]
      .map((m) => [channelHash(m.channel), m.channel, m.data, m.sender] as const)
      .sort((a, b) => Buffer.compare(a[0], b[0]));
    await insertRows(
      s,
      `INSERT INTO retained (channel_hash, channel, data, sender) VALUES ?
       ON DUPLICATE KEY UPDATE channel = VALUES(channel), data = VALUES(data), sender = VALUES(sender)`,
      rows.map((row) => [...row]),
    );
    return ops.map(() => undefined);
  },

  clearRetained: async (s, ops) => {
    const hashes = [...new Set(ops.map((op) => op.channel))].map(channelHash).sort(Buffer.compare);
    for (const some of chunks(hashes, KEYS_PER_STATEMENT)) await s.exec('DELETE FROM retained WHERE channel_hash IN (?)', [some]);
    return ops.map(() => undefined);
  },

  // The last time given per client wins, as it would one by one.
  touchClients: async (s, ops) => {
    const seen = new Map<string, number>();
    for (const { clientIds, at } of ops) for (const clientId of clientIds) seen.set(clientId, at);
    await insertRows(s, 'INSERT INTO clients (client_id, last_seen) VALUES ? ON DUPLICATE KEY UPDATE last_seen = VALUES(last_seen)', sortedKeys(seen));
    return ops.map(() => undefined);
  },

  // FOR UPDATE: a touch another node commits first keeps its client; one it
  // commits later waits for this transaction and finds the client gone.
  expireClients: oneByOne(async (s, { before, limit }) => {
    const found = await s.rows('SELECT client_id FROM clients WHERE last_seen < ? ORDER BY last_seen, client_id LIMIT ? FOR UPDATE', [before, limit]);
    const expired = [];
    for (const row of found) {
      const clientId = row['client_id'] as string;
      const queued = await s.exec('DELETE FROM queue WHERE client_id = ?', [clientId]);
      const subscriptions = await s.exec('DELETE FROM subscriptions WHERE client_id = ?', [clientId]);
      await s.exec('DELETE FROM clients WHERE client_id = ?', [clientId]);
      expired.push({ clientId, subscriptions, queued });
    }
    return expired;
  }),
};

/** Multi-row INSERTs of `rows`, each below max_allowed_packet. */
async function insertRows(s: Session, sql: string, rows: unknown[][]): Promise<void> {
  let some: unknown[][] = [];
  let chars = 0;
  for (const row of rows) {
    let size = 16;
    for (const v of row) size += typeof v === 'string' ? v.length + 4 : Buffer.isBuffer(v) ? 2 * v.length + 4 : 24;
    if (some.length > 0 && chars + size > s.statementChars) {
      await s.exec(sql, [some]);
      some = [];
      chars = 0;
    }
    some.push(row);
    chars += size;
  }
  if (some.length > 0) await s.exec(sql, [some]);
}

/** [key, value] rows in key order, the order every node locks them in. */
function sortedKeys(values: Map<string, unknown>): unknown[][] {
  return [...values].sort((a, b) => compareKeys(a[0], b[0]));
}

async function insertQueued(s: Session, copies: QueuedMessage[]): Promise<void> {
  const rows = copies.map((m) => {
    const row = [m.clientId, m.id, m.channel, m.data, m.sender];
    // mysql2 would write another type as something else; SQLite refuses it.
    if (!row.every((v) => typeof v === 'string')) throw new TypeError(`queued copy ${String(m.id)}: every field must be a string`);
    return row;
  });
  // A duplicate (client_id, id) keeps the first copy instead of failing the
  // whole batch, which also holds other publishers' messages. Not INSERT
  // IGNORE: that would also turn a too-long value into a truncation.
  await insertRows(s, 'INSERT INTO queue (client_id, id, channel, data, sender) VALUES ? ON DUPLICATE KEY UPDATE seq = seq', rows);
}

/**
 * Deletes a run of acknowledgements one by one through the unique
 * (client_id, id) key, in key order: each statement locks exactly its own row,
 * and every node takes its locks in the same order, so acknowledgements from
 * several nodes cannot deadlock one another. A repeated ack answers false the
 * second time, as it would alone.
 */
async function deleteQueued(s: Session, acks: { clientId: string; id: string }[]): Promise<boolean[]> {
  const order = acks.map((ack, index) => ({ ack, index }))
    .sort((a, b) => compareKeys(a.ack.clientId, b.ack.clientId) || compareKeys(a.ack.id, b.ack.id));
  const found = new Array<boolean>(acks.length);
  for (const { ack, index } of order) {
    found[index] = (await s.exec('DELETE FROM queue WHERE client_id = ? AND id = ?', [ack.clientId, ack.id])) > 0;
  }
  return found;
}

/** Binary order, as the utf8mb4 binary collation of the keys sorts them. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
