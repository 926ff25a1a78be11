import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connectClient, type TestBroker } from '../testing/harness';
import { freePort, spawnBroker } from '../testing/process';

describe('graceful shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: stops accepting, ends sessions, cleans temporary subscriptions, exits 0`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'jmqt-shutdown-'));
      try {
        const socket = await freePort();
        const running = await spawnBroker({
          JMQT_SOCKET_PORT: String(socket), JMQT_WEBSOCKET_PORT: String(await freePort()), JMQT_BIND_ADDRESS: '127.0.0.1',
          JMQT_SQLITE_PATH: join(dir, 'jmqt.db'),
        });
        const asBroker = { ports: { socket } } as TestBroker;
        const client = await connectClient(asBroker, 'leaving');
        await client.request({ sub: { cn: 'kept', pr: 1 } }, 'subAck', { st: 1 });
        await client.request({ sub: { cn: 'gone', pr: 0 } }, 'subAck', { st: 1 });
        const started = Date.now();
        running.child.kill(signal);
        assert.equal(await running.exited, 0);
        assert.ok(Date.now() - started < 10_000, 'exited within the bound');
        await client.waitClosed();
        assert.match(running.output(), new RegExp(`${signal} received`));
        const db = new Database(join(dir, 'jmqt.db'), { readonly: true });
        const rows = db.prepare('SELECT channel, persistent FROM subscriptions WHERE client_id = ? ORDER BY channel').all('leaving');
        db.close();
        assert.deepEqual(rows, [{ channel: '#leaving', persistent: 1 }, { channel: 'kept', persistent: 1 }, { channel: 'update', persistent: 1 }]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
