// MysqlStorage against a real MariaDB (or MySQL): the shared Storage
// contract plus what only this backend has (collations, packet splitting,
// timeouts, several instances on one database, the schema upgrade).
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createConnection, escapeId, type Connection } from 'mysql2/promise';
import { MysqlStorage, type MysqlStorageOptions } from './mysql';
import { storageContract } from './storage.contract';
import { serviceSkip } from '../testing/services';
import type { QueuedMessage } from './storage';

// The real MariaDB (or MySQL) the suite runs against; each run gets its own
// database, dropped at the end.
const server = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
const database = `jmqt_test_${process.pid}_${randomBytes(4).toString('hex')}`;
const options: MysqlStorageOptions = { ...server, database, connectTimeoutMs: 3000 };

const copy = (id: string, clientId = 'a', data = `{"id":"${id}"}`): QueuedMessage => ({ clientId, id, channel: 'news', data, sender: 'p' });
const ids = async (s: MysqlStorage, clientId = 'a') => (await s.queuedFor(clientId)).map((m) => m.id);

/** Listens on a free port; `port()` answers it. */
async function listen(srv: Server): Promise<number> {
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return (srv.address() as { port: number }).port;
}

/** A TCP relay to the database that can go silent (packets dropped) or away. */
async function relay() {
  const sockets = new Set<Socket>();
  let silent = false;
  const srv = createServer((inbound) => {
    const outbound = connect(server.port, server.host);
    for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
      sockets.add(from);
      from.on('data', (chunk) => silent || to.write(chunk));
      from.on('error', () => to.destroy());
      from.on('close', () => (sockets.delete(from), to.destroy()));
    }
  });
  const port = await listen(srv);
  return {
    port,
    silence: () => (silent = true),
    stop: () => new Promise<void>((resolve) => {
      srv.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}

describe('MysqlStorage without a server', () => {
  it('open rejects at once when nothing listens (port 1)', async () => {
    const started = Date.now();
    await assert.rejects(new MysqlStorage({ ...options, port: 1 }).open(), /ECONNREFUSED/);
    assert.ok(Date.now() - started < 3000);
  });

  it('open rejects after connectTimeoutMs when the server never answers', async () => {
    const peers = new Set<Socket>();
    const mute = createServer((socket) => peers.add(socket));
    const port = await listen(mute);
    const started = Date.now();
    try {
      await assert.rejects(new MysqlStorage({ ...options, port, connectTimeoutMs: 500 }).open(), /ETIMEDOUT/);
      assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
    } finally {
      for (const socket of peers) socket.destroy();
      mute.close();
    }
  });
});

const skip = await serviceSkip('MariaDB', server.port);
if (!skip) {
  let admin: Connection | undefined;
  const sql = async (text: string, values?: unknown[]) => {
    admin ??= await createConnection(server);
    return admin.query(text, values);
  };
  after(async () => {
    await sql(`DROP DATABASE IF EXISTS ${escapeId(database)}`);
    await admin?.end();
  });

  // Every contract test starts on empty tables: dropped, then made again by open().
  const dropTables = () => sql(['subscriptions', 'queue', 'retained', 'clients'].map((t) => escapeId(`${database}.${t}`)).join(', ').replace(/^/, 'DROP TABLE IF EXISTS '));
  storageContract('MySQL', {
    create: async () => new MysqlStorage(options),
    reopen: async () => new MysqlStorage(options),
    destroy: async () => void (await dropTables()),
  });

  describe('MysqlStorage', () => {
    // Closed even when a test fails, so no pool keeps the process alive.
    const opened: MysqlStorage[] = [];
    afterEach(async () => {
      await Promise.allSettled(opened.map((s) => s.close()));
      opened.length = 0;
    });
    const open = async (more: Partial<MysqlStorageOptions> = {}) => {
      const s = new MysqlStorage({ ...options, ...more });
      opened.push(s);
      await s.open();
      return s;
    };
    const fresh = async (more: Partial<MysqlStorageOptions> = {}) => {
      await dropTables();
      return open(more);
    };

    it('open creates the database with a binary collation and InnoDB tables', async () => {
      const s = await fresh();
      await s.close();
      const [[schema]] = (await sql('SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database])) as any;
      assert.equal(schema.cs, 'utf8mb4');
      assert.match(schema.co, /^utf8mb4_(nopad_|0900_)?bin$/);
      const [tables] = (await sql('SELECT TABLE_NAME AS t, ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY t', [database])) as any;
      assert.deepEqual(tables.map((r: { t: string; e: string }) => `${r.t}:${r.e}`), ['clients:InnoDB', 'queue:InnoDB', 'retained:InnoDB', 'subscriptions:InnoDB']);
    });

    it('opening a database made before the clients table counts every known client as seen at the upgrade', async () => {
      const s = await fresh();
      await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
      await s.subscribe({ clientId: 'b', channel: 'news', persistent: false });
      await s.enqueue([copy('1', 'b'), copy('1', 'c')]);
      await s.close();
      // As it was before last-seen times (or after a crash between creating the table and filling it).
      await sql(`DROP TABLE ${escapeId(database)}.clients`);
      const before = Date.now();
      const upgraded = await open();
      const after = Date.now();
      const [rows] = (await sql(`SELECT client_id AS id, last_seen AS at FROM ${escapeId(database)}.clients ORDER BY client_id`)) as any;
      assert.deepEqual(rows.map((r: { id: string }) => r.id), ['a', 'b', 'c']);
      assert.ok(rows.every((r: { at: number }) => Number(r.at) >= before && Number(r.at) <= after), JSON.stringify(rows));
      await upgraded.touchClients(['a'], 1000);
      await upgraded.close();
      // Only while the table is empty: a later open leaves the times as they are.
      const again = await open();
      assert.deepEqual(await again.expireClients(before, 10), [{ clientId: 'a', subscriptions: 1, queued: 0 }]);
      assert.deepEqual(await again.expireClients(after + 1, 10), [
        { clientId: 'b', subscriptions: 1, queued: 1 },
        { clientId: 'c', subscriptions: 0, queued: 1 },
      ]);
      await again.close();
    });

    it('a trailing space makes a distinct key too', async () => {
      const s = await fresh();
      await s.subscribe({ clientId: 'a', channel: 'x', persistent: true });
      await s.subscribe({ clientId: 'a ', channel: 'x ', persistent: false });
      assert.deepEqual(await s.subscriptionsOf('a '), [{ clientId: 'a ', channel: 'x ', persistent: false }]);
      await s.enqueue([copy('1'), copy('1 '), copy('1', 'a ')]);
      assert.deepEqual(await ids(s), ['1', '1 ']);
      assert.equal(await s.acknowledge('a', '1 '), true);
      assert.deepEqual(await ids(s), ['1']);
      await s.close();
    });

    it('calls apply in call order, reads included, without awaiting each', async () => {
      const s = await fresh();
      const first = s.subscribe({ clientId: 'a', channel: 'x', persistent: true });
      const second = s.subscribe({ clientId: 'a', channel: 'x', persistent: false });
      const enqueued = s.enqueue([copy('1'), copy('2')]);
      const seen = s.queuedFor('a');
      const acked = s.acknowledge('a', '1');
      const later = s.enqueue([copy('3')]);
      const subs = s.subscriptionsOf('a');
      const removed = s.removeTemporary('a');
      const last = s.queuedFor('a');
      await Promise.all([first, second, enqueued, acked, later]);
      assert.deepEqual((await seen).map((m) => m.id), ['1', '2']);
      assert.deepEqual(await subs, [{ clientId: 'a', channel: 'x', persistent: false }]);
      assert.deepEqual(await removed, ['x']);
      assert.deepEqual((await last).map((m) => m.id), ['2', '3']); // on 'news', not 'x'
      await s.close();
    });

    it('a second instance open at the same time sees the first one’s writes, and both survive a reopen', async () => {
      const s = await fresh();
      await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
      await s.retain({ channel: 'news', data: '{"r":1}', sender: '' });
      await s.enqueue([copy('2'), copy('1')]);
      const other = await open();
      await other.enqueue([copy('0')]);
      await s.close();
      await other.close();
      const again = await open();
      assert.deepEqual(await again.subscriptionsOf('a'), [{ clientId: 'a', channel: 'news', persistent: true }]);
      assert.deepEqual(await again.allRetained(), [{ channel: 'news', data: '{"r":1}', sender: '' }]);
      assert.deepEqual(await ids(again), ['2', '1', '0']);
      await again.close();
    });

    it('a value longer than its column fails the call instead of being cut', async () => {
      const s = await fresh();
      await assert.rejects(s.enqueue([copy('1', 'c'.repeat(256))]), /too long/i);
      await assert.rejects(s.subscribe({ clientId: 'a', channel: 'x'.repeat(1025), persistent: true }), /too long/i);
      await s.subscribe({ clientId: 'c'.repeat(255), channel: '日'.repeat(1024), persistent: true });
      assert.equal((await s.stats()).subscriptions, 1);
      await s.close();
    });

    it('a batch above max_allowed_packet is split into several INSERTs, all in one transaction', { timeout: 60_000 }, async () => {
      const s = await fresh();
      const [[{ packet }]] = (await sql('SELECT @@max_allowed_packet AS packet')) as any;
      const big = JSON.stringify('x'.repeat(100 * 1024));
      const count = Math.ceil((Number(packet) * 1.5) / big.length);
      await s.enqueue(Array.from({ length: count }, (_, i) => copy(String(i), 'a', big)));
      const stored = await s.queuedFor('a');
      assert.equal(stored.length, count);
      assert.ok(stored.every((m, i) => m.id === String(i) && m.data === big));
      await s.close();
    });

    it('calls reject, never hang, when the server goes silent or away', { timeout: 30_000 }, async () => {
      const link = await relay();
      try {
        const s = await fresh({ port: link.port, queryTimeoutMs: 1000, connectTimeoutMs: 1000 });
        await s.enqueue([copy('1')]);
        await s.ping();
        link.silence();
        let started = Date.now();
        await assert.rejects(s.enqueue([copy('2')]), /timeout/i);
        assert.ok(Date.now() - started < 5000);
        await link.stop();
        started = Date.now();
        await assert.rejects(s.queuedFor('a'));
        await assert.rejects(s.acknowledge('a', '1'));
        await assert.rejects(s.ping());
        assert.ok(Date.now() - started < 5000);
        await s.close();
        await assert.rejects(s.ping(), /not open/);
      } finally {
        await link.stop();
      }
    });
  });
} else {
  it('MysqlStorage against MariaDB', { skip }, () => undefined);
}
