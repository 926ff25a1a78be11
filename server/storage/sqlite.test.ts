import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
