/**
 * Session expiry (protocol 11.7): a client id unseen for
 * SESSION_EXPIRY_SECONDS loses its subscriptions (`#clientId` included) and
 * its queued QoS 1 copies, counted in /api/stats; a connected client keeps
 * everything; the unseen time counts across a restart; 0 never expires.
 * The expiry here is a few seconds (instead of the default 7 days) so that a
 * test can watch it happen.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { connectClient, RawClient, startTestBroker, type TestBroker } from '../testing/harness';
import { sleep, waitUntil } from '../../tools/wait';
import { defaultConfig } from '../config';

function getJson(broker: TestBroker, path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: broker.ports.webSocket, path, headers: { Host: `localhost:${broker.ports.webSocket}` } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${path} answered ${response.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const counters = async (broker: TestBroker) => (await getJson(broker, '/api/stats')).counters as Record<string, number>;

async function sessionGone(broker: TestBroker, clientId: string): Promise<void> {
  await waitUntil(async () => !((await getJson(broker, '/api/clients')).clients as Array<{ clientId: string }>).some((c) => c.clientId === clientId),
    5000, `the session of ${clientId} to end`);
}

/** Opens a session, subscribes persistently to `channels`, ends it with disconn. */
async function visit(broker: TestBroker, clientId: string, channels: string[]): Promise<void> {
  const client = await connectClient(broker, clientId);
  for (const cn of channels) await client.request({ sub: { cn, pr: 1 } }, 'subAck', { cn, st: 1 });
  client.send({ disconn: {} });
  await client.waitClosed();
  await sessionGone(broker, clientId);
}

const channelsOf = async (broker: TestBroker, clientId: string) => (await broker.broker.storage.subscriptionsOf(clientId)).map((r) => r.channel).sort();

async function mySubscriptions(client: RawClient): Promise<Record<string, string>> {
  const ack = await client.request({ pub: { cn: '$mySubscriptions', dt: {}, id: 'my' } }, 'pubAck', { id: 'my' });
  return (ack['dt'] as { channels: Record<string, string> }).channels;
}

describe('session expiry (11.7)', () => {
  it('SESSION_EXPIRY_SECONDS defaults to 7 days', () => {
    assert.equal(defaultConfig().SESSION_EXPIRY_SECONDS, 604_800);
  });

  it('an unseen client loses its subscriptions and queued copies; a connected one keeps everything', async () => {
    const broker = await startTestBroker({ SESSION_EXPIRY_SECONDS: 2 });
    try {
      // Connected before `gone` leaves: its last-seen time is older than gone's, so only
      // being marked seen while connected keeps it when gone expires.
      const stayer = await connectClient(broker, 'stayer');
      await stayer.request({ sub: { cn: 'stay-chan', pr: 1 } }, 'subAck', { st: 1 });
      await visit(broker, 'gone', ['gone-chan']);
      assert.deepEqual(await channelsOf(broker, 'gone'), ['#gone', 'gone-chan', 'update']);

      const publisher = await connectClient(broker, 'exp-pub');
      assert.deepEqual(await publisher.request({ pub: { cn: 'gone-chan', dt: 'a', q: 1, id: '1' } }, 'pubAck'), { st: 1, id: '1' });
      assert.deepEqual(await publisher.request({ pub: { cn: '#gone', dt: 'b', q: 1, id: '2' } }, 'pubAck'), { st: 8, id: '2' });
      // The stayer gets this one and does not acknowledge it: its copy stays queued.
      assert.deepEqual(await publisher.request({ pub: { cn: 'stay-chan', dt: 'c', q: 1, id: '3' } }, 'pubAck'), { st: 1, id: '3' });
      assert.equal(await broker.queuedFor('gone'), 2);
      assert.equal(await broker.queuedFor('stayer'), 1);

      await waitUntil(async () => (await counters(broker))['expiredClients']! > 0, 10_000, 'gone to expire');
      const after = await counters(broker);
      assert.equal(after['expiredClients'], 1, 'only gone: the stayer and the publisher are connected');
      assert.equal(after['expiredSubscriptions'], 3);
      assert.equal(after['expiredCopies'], 2);
      assert.deepEqual(await channelsOf(broker, 'gone'), []);
      assert.equal(await broker.queuedFor('gone'), 0);
      const stats = await getJson(broker, '/api/clients');
      assert.ok(!(stats.offlineQueues as Array<{ clientId: string }>).some((q) => q.clientId === 'gone'));

      // #gone no longer exists: a QoS 1 pub to it is answered 8 and kept for nobody (7.8);
      // its channel has no subscriber left, so a pub there stores nothing either.
      assert.deepEqual(await publisher.request({ pub: { cn: '#gone', dt: 'd', q: 1, id: '4' } }, 'pubAck'), { st: 8, id: '4' });
      assert.deepEqual(await publisher.request({ pub: { cn: 'gone-chan', dt: 'e', q: 1, id: '5' } }, 'pubAck'), { st: 1, id: '5' });
      assert.equal(await broker.queuedFor('gone'), 0);

      // The connected stayer kept its subscriptions and its queued copy.
      assert.deepEqual(await mySubscriptions(stayer), { '#stayer': 'persistent', 'stay-chan': 'persistent', update: 'persistent' });
      assert.deepEqual(await channelsOf(broker, 'stayer'), ['#stayer', 'stay-chan', 'update']);
      assert.equal(await broker.queuedFor('stayer'), 1);
      const push = stayer.next('push', { cn: 'stay-chan', dt: 'f' });
      assert.deepEqual(await publisher.request({ pub: { cn: 'stay-chan', dt: 'f', q: 1, id: '6' } }, 'pubAck'), { st: 1, id: '6' });
      await push;
      // However late the next expiry run, a session open at that time is seen then.
      assert.equal(await broker.broker.expireClients(Date.now() + 365 * 86400_000), 0);
      assert.deepEqual(await channelsOf(broker, 'stayer'), ['#stayer', 'stay-chan', 'update']);

      // gone comes back to a fresh start: nothing queued, only what every session gets.
      const back = await connectClient(broker, 'gone');
      await back.request({ hb: {} }, 'hbAck');
      assert.deepEqual(back.all('push').filter((p) => p['q'] === 1), []);
      assert.deepEqual(await mySubscriptions(back), { '#gone': 'persistent', update: 'persistent' });
      for (const client of [stayer, publisher, back]) client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('counts the time unseen before a restart', async () => {
    const EXPIRY = 3;
    const first = await startTestBroker({ SESSION_EXPIRY_SECONDS: EXPIRY });
    const dir = first.dir;
    let second: TestBroker | null = null;
    try {
      await visit(first, 'sleeper', ['sleep-chan']);
      const waker = await connectClient(first, 'waker');
      assert.deepEqual(await waker.request({ pub: { cn: 'sleep-chan', dt: 'x', q: 1, id: '1' } }, 'pubAck'), { st: 1, id: '1' });
      waker.close();
      assert.equal(await first.queuedFor('sleeper'), 1);
      await first.close();

      // The broker is down for most of the expiry: the clients stay away meanwhile.
      await sleep(2500);
      second = await startTestBroker({ SESSION_EXPIRY_SECONDS: EXPIRY }, undefined, dir);
      const started = Date.now();
      assert.deepEqual(await channelsOf(second, 'sleeper'), ['#sleeper', 'sleep-chan', 'update'], 'the restart itself keeps persistent state');
      await waitUntil(async () => (await counters(second!))['expiredClients']! >= 2, 10_000, 'sleeper and waker to expire');
      const elapsed = Date.now() - started;
      // Sooner after the restart than the expiry itself: only the time before it can explain that.
      assert.ok(elapsed < EXPIRY * 1000, `expired ${elapsed} ms after the restart: the time before it did not count`);
      assert.deepEqual(await channelsOf(second, 'sleeper'), []);
      assert.equal(await second.queuedFor('sleeper'), 0);
      assert.equal((await counters(second))['expiredCopies'], 1);
    } finally {
      await (second ?? first).close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SESSION_EXPIRY_SECONDS = 0: nothing ever expires', async () => {
    const broker = await startTestBroker({ SESSION_EXPIRY_SECONDS: 0 });
    try {
      await visit(broker, 'forever', ['forever-chan']);
      const publisher = await connectClient(broker, 'forever-pub');
      assert.deepEqual(await publisher.request({ pub: { cn: 'forever-chan', dt: 1, q: 1, id: '1' } }, 'pubAck'), { st: 1, id: '1' });
      // A run of the expiry a year from now removes nothing.
      assert.equal(await broker.broker.expireClients(Date.now() + 365 * 86400_000), 0);
      assert.deepEqual(await channelsOf(broker, 'forever'), ['#forever', 'forever-chan', 'update']);
      assert.equal(await broker.queuedFor('forever'), 1);
      assert.equal((await counters(broker))['expiredClients'], 0);
      publisher.close();
    } finally {
      await broker.destroy();
    }
  });
});
