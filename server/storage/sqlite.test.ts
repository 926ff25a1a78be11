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
import type { QueuedMessage } from './storage';

const dir = mkdtempSync(join(tmpdir(), 'jmqt-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshPath = (label: string) => join(dir, `${label}-${++files}`, 'jmqt.db');

storageContract('SQLite', async () => new SqliteStorage({ path: freshPath('contract') }));

const copy = (id: string, clientId = 'a'): QueuedMessage => ({ clientId, id, channel: 'news', data: `{"id":"${id}"}`, sender: 'p' });

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

  it('data survives close and reopen, and new copies queue after the old ones', async () => {
    const path = freshPath('reopen');
    const first = new SqliteStorage({ path });
    await first.open();
    await first.subscribe({ clientId: 'a', channel: 'news', persistent: true });
    await first.subscribe({ clientId: 'a', channel: 'temp', persistent: false });
    await first.retain({ channel: 'news', data: '{"r":1}', sender: '' });
    await first.enqueue([copy('2'), copy('1')]);
    await first.close();

    const second = new SqliteStorage({ path, synchronous: 'normal' });
    await second.open();
    assert.deepEqual(await second.subscriptionsOf('a'), [
      { clientId: 'a', channel: 'news', persistent: true },
      { clientId: 'a', channel: 'temp', persistent: false },
    ]);
    assert.deepEqual(await second.allRetained(), [{ channel: 'news', data: '{"r":1}', sender: '' }]);
    assert.deepEqual(await second.queuedFor('a'), [copy('2'), copy('1')]);
    await second.enqueue([copy('0')]);
    assert.deepEqual((await second.queuedFor('a')).map((m) => m.id), ['2', '1', '0']);
    await second.close();
  });

  it('close writes the batch still pending and resolves its callers', async () => {
    const path = freshPath('close');
    const s = new SqliteStorage({ path });
    await s.open();
    const pending = s.enqueue([copy('1'), copy('2')]);
    const acked = s.acknowledge('a', '1');
    await s.close();
    await pending;
    assert.equal(await acked, true);
    await assert.rejects(s.enqueue([copy('3')]), /not open/);
    await assert.rejects(s.queuedFor('a'), /not open/);

    const reopened = new SqliteStorage({ path });
    await reopened.open();
    assert.deepEqual(await reopened.queuedFor('a'), [copy('2')]);
    await reopened.close();
  });

  it('a failing batch rejects every caller in it, keeps none of it, and the next batch works', async () => {
    const s = new SqliteStorage({ path: freshPath('fail') });
    await s.open();
    await s.enqueue([copy('0')]);
    const bad = { ...copy('bad'), data: { not: 'text' } as unknown as string };
    const results = await Promise.allSettled([s.enqueue([copy('1')]), s.enqueue([bad]), s.acknowledge('a', '0')]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    assert.deepEqual((await s.queuedFor('a')).map((m) => m.id), ['0']);
    await s.enqueue([copy('2')]);
    assert.deepEqual((await s.queuedFor('a')).map((m) => m.id), ['0', '2']);
    await s.close();
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
