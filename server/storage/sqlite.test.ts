// SqliteStorage on real files: the shared Storage contract plus what only
// this backend has (WAL, the schema upgrade, durability across kill -9).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SqliteStorage } from './sqlite';
import { storageContract } from './storage.contract';
import type { Storage } from './storage';

const dir = mkdtempSync(join(tmpdir(), 'jmqt-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshPath = (label: string) => join(dir, `${label}-${++files}`, 'jmqt.db');

const paths = new WeakMap<Storage, string>();
storageContract('SQLite', {
  async create() {
    const path = freshPath('contract');
    const storage = new SqliteStorage({ path });
    paths.set(storage, path);
    return storage;
  },
  async reopen(storage) {
    return new SqliteStorage({ path: paths.get(storage)! });
  },
});


describe('SqliteStorage', () => {
  it('open creates the parent folders and a WAL database', async () => {
    const path = join(dir, 'deep', 'er', 'jmqt.db');
    const s = new SqliteStorage({ path });
    await s.open();
    await s.close();
    assert.ok(existsSync(path));
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('opening a database made before the clients table counts every known client as seen at the upgrade', async () => {
    const path = freshPath('upgrade');
    mkdirSync(dirname(path), { recursive: true });
    // The schema as it was before last-seen times, with a few clients in it.
    const old = new Database(path);
    old.exec(`
      CREATE TABLE subscriptions (client_id TEXT NOT NULL, channel TEXT NOT NULL, persistent INTEGER NOT NULL,
        PRIMARY KEY (client_id, channel)) WITHOUT ROWID;
      CREATE TABLE queue (seq INTEGER PRIMARY KEY, client_id TEXT NOT NULL, id TEXT NOT NULL, channel TEXT NOT NULL,
        data TEXT NOT NULL, sender TEXT NOT NULL);
      CREATE UNIQUE INDEX queue_client_id ON queue (client_id, id);
      CREATE TABLE retained (channel TEXT PRIMARY KEY, data TEXT NOT NULL, sender TEXT NOT NULL);
      INSERT INTO subscriptions VALUES ('a', 'news', 1), ('b', 'news', 0), ('b', 'chat', 1);
      INSERT INTO queue (client_id, id, channel, data, sender) VALUES ('b', '1', 'news', '1', ''), ('c', '1', 'gone', '2', '');
    `);
    old.close();

    const before = Date.now();
    const s = new SqliteStorage({ path });
    await s.open();
    const after = Date.now();
    await s.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT client_id AS id, last_seen AS at FROM clients ORDER BY client_id').all() as { id: string; at: number }[];
    db.close();
    assert.deepEqual(rows.map((r) => r.id), ['a', 'b', 'c']);
    assert.ok(rows.every((r) => r.at >= before && r.at <= after), JSON.stringify(rows));

    // Only at the upgrade: a later open leaves the times as they are.
    const again = new SqliteStorage({ path });
    await again.open();
    try {
      await again.touchClients(['a'], 1000);
      await again.close();
      await again.open();
      assert.deepEqual(await again.expireClients(before, 10), [{ clientId: 'a', subscriptions: 1, queued: 0 }]);
      assert.deepEqual(await again.expireClients(after + 1, 10), [
        { clientId: 'b', subscriptions: 2, queued: 1 },
        { clientId: 'c', subscriptions: 0, queued: 1 },
      ]);
    } finally {
      await again.close();
    }
  });

  it('every enqueue that resolved before kill -9 is still there', { timeout: 60_000 }, async () => {
    const path = freshPath('crash');
    const fixture = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reported: number[] = [];
    let stderr = '';
    let tail = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (tail + chunk).split('\n');
      tail = lines.pop()!;
      for (const line of lines) reported.push(Number(line));
      if (reported.length >= 30 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (c, sig) => resolve([c, sig])),
    );
    assert.equal(signal, 'SIGKILL', `writer ended with code ${code}: ${stderr}`);
    assert.ok(reported.length >= 30);
    assert.deepEqual(reported, reported.map((_, i) => i + 1));

    const s = new SqliteStorage({ path });
    await s.open();
    const stored = (await s.queuedFor('crash')).map((m) => m.id);
    await s.close();
    const expected: string[] = [];
    for (const batch of reported)
      for (let call = 0; call < 4; call++) for (let i = 0; i < 25; i++) expected.push(`${batch}-${call}-${i}`);
    // The batch in flight at the kill may or may not have committed, never in part.
    assert.deepEqual(stored.slice(0, expected.length), expected);
    assert.ok(stored.length === expected.length || stored.length === expected.length + 100, `${stored.length} copies`);
  });
});
