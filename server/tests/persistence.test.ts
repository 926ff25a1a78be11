import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, startTestBroker, type TestBroker } from '../testing/harness';
import { freePort, spawnBroker } from '../testing/process';

describe('storage survives a restart and a kill -9', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'jmqt-persist-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('persistent subscriptions, retained messages and QoS 1 queues survive a restart', async () => {
    let broker: TestBroker = await startTestBroker({}, undefined, dir);
    const sub = await connectClient(broker, 'survivor');
    await sub.request({ sub: { cn: 'durable', pr: 1 } }, 'subAck', { st: 1 });
    await sub.request({ sub: { cn: 'ephemeral', pr: 0 } }, 'subAck', { st: 1 });
    sub.send({ disconn: {} });
    await sub.waitClosed();
    const pub = await connectClient(broker, 'writer');
    await pub.request({ pub: { cn: 'durable', dt: { n: 1 }, q: 1, id: '1' } }, 'pubAck', { st: 1 });
    await pub.request({ pub: { cn: 'durable', dt: { n: 2 }, q: 1, id: '2', rt: 1 } }, 'pubAck', { st: 1 });
    pub.close();
    await broker.close();

    broker = await startTestBroker({}, undefined, dir);
    const back = await connectClient(broker, 'survivor');
    await back.seen('push', { cn: 'durable', rt: 1 });
    const pushes = back.all('push').filter((push) => push['cn'] === 'durable');
    assert.deepEqual(pushes.map((push) => [push['dt'], push['q'] ?? null, push['rt'] ?? null]), [[{ n: 1 }, 1, null], [{ n: 2 }, 1, null], [{ n: 2 }, null, 1]]);
    const subs = await back.request({ pub: { cn: '$mySubscriptions', dt: {}, id: 's' } }, 'pubAck');
    assert.deepEqual(subs['dt'], { channels: { '#survivor': 'persistent', update: 'persistent', durable: 'persistent' } });
    back.close();
    await broker.close();
  });

  it('every acknowledged QoS 1 publish is delivered after a kill -9 during the stream', async () => {
    const env = {
      JMQT_SOCKET_PORT: String(await freePort()),
      JMQT_WEBSOCKET_PORT: String(await freePort()),
      JMQT_BIND_ADDRESS: '127.0.0.1',
      JMQT_SQLITE_PATH: join(dir, 'crash.db'),
      JMQT_LOG_MODE: 'WRN',
    };
    const port = Number(env.JMQT_SOCKET_PORT);
    const asBroker = { ports: { socket: port, webSocket: Number(env.JMQT_WEBSOCKET_PORT) } } as TestBroker;
    let running = await spawnBroker(env);
    const sub = await connectClient(asBroker, 'crash-sub');
    await sub.request({ sub: { cn: 'stream', pr: 1 } }, 'subAck', { st: 1 });
    sub.send({ disconn: {} });
    await sub.waitClosed();

    const pub = await connectClient(asBroker, 'crash-pub');
    const acknowledged = new Set<number>();
    let sent = 0;
    // Keep 20 publishes in flight and kill the broker once 200 are acknowledged.
    await new Promise<void>((resolve) => {
      const sendNext = () => {
        const n = ++sent;
        pub.next('pubAck', { id: String(n) }, 10_000).then((ack) => {
          if (ack['st'] === 1) acknowledged.add(n);
          if (acknowledged.size === 200) {
            running.child.kill('SIGKILL');
            resolve();
          } else if (acknowledged.size < 200) sendNext();
        }, () => resolve());
        pub.send({ pub: { cn: 'stream', dt: n, q: 1, id: String(n) } });
      };
      for (let i = 0; i < 20; i++) sendNext();
    });
    await running.exited;
    await pub.waitClosed();

    running = await spawnBroker(env);
    const back = await connectClient(asBroker, 'crash-sub');
    // The conn is handled once every stored copy is replayed.
    await back.barrier({ ms: 10_000 });
    const received = new Map<number, number>();
    for (const push of back.all('push')) if (push['cn'] === 'stream') received.set(push['dt'] as number, (received.get(push['dt'] as number) ?? 0) + 1);
    const missing = [...acknowledged].filter((n) => !received.has(n));
    const duplicates = [...received.values()].filter((count) => count > 1).length;
    assert.deepEqual(missing, [], `acknowledged but lost: ${missing.join(',')}`);
    const order = back.all('push').filter((push) => push['cn'] === 'stream').map((push) => push['dt'] as number);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'redelivered oldest first');
    process.stdout.write(`# kill -9: ${acknowledged.size} acknowledged, ${received.size} delivered after restart (${sent} sent), ${duplicates} duplicates\n`);
    back.close();
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0, 'SIGTERM exits 0');
  });
});
