/**
 * GET /api/trace/:messageId against a real broker: the life of a QoS 1
 * message to three subscribers (one acknowledges, one is offline, one is
 * kicked and comes back) step by step; why copies are dropped (queue full,
 * evicted, unsubscribed, expired, purged) and deferred; QoS 0 traced by its
 * pub id; the bounds (TRACE_MAX_MESSAGES, TRACE_SECONDS, off with 0).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TraceStore } from '../trace/trace-store';
import { api, startLoggedBroker, type LoggedBroker } from '../testing/admin-client';
import { connectClient, waitFor } from '../testing/harness';
import type { Config } from '../config';

async function withBroker(config: Partial<Config>, body: (broker: LoggedBroker, call: (method: string, path: string, json?: unknown) => Promise<{ status: number; body: any }>) => Promise<void>): Promise<void> {
  const broker = await startLoggedBroker(config);
  try {
    await body(broker, (method, path, json) => api(broker.ports.webSocket, method, path, { body: json }));
  } finally {
    await broker.destroy();
  }
}

const time = (iso: string) => Date.parse(iso);

describe('admin trace', () => {
  it('a QoS 1 message to three subscribers, one acknowledging, one offline, one kicked: every step, by push id and by publisherId:pubId', async () => {
    await withBroker({}, async (broker, call) => {
      const node = broker.broker.router.nodeId;
      const channel = 'trace/three';
      const offline = await connectClient(broker, 'tr-offline');
      await offline.request({ sub: { cn: channel, pr: 1 } }, 'subAck', { st: 1 });
      offline.send({ disconn: {} });
      await offline.waitClosed();
      await waitFor(() => !broker.broker.isConnected('tr-offline'), 'tr-offline gone');
      const acker = await connectClient(broker, 'tr-acker');
      const kicked = await connectClient(broker, 'tr-kicked');
      for (const subscriber of [acker, kicked]) await subscriber.request({ sub: { cn: channel, pr: 1 } }, 'subAck', { st: 1 });
      const publisher = await connectClient(broker, 'tr-pub');

      const started = Date.now();
      const data = { order: 42, note: 'three subscribers' };
      assert.deepEqual(await publisher.request({ pub: { cn: channel, dt: data, q: 1, id: 'm-1' } }, 'pubAck'), { st: 1, id: 'm-1' });
      const pushed = await acker.seen('push', { cn: channel });
      const id = pushed['id'] as string;
      acker.send({ pushAck: { id, st: 1 } });
      await acker.barrier();
      assert.equal((await kicked.seen('push', { cn: channel }))['id'], id, 'one server id for every copy');
      assert.equal((await call('DELETE', '/api/clients/tr-kicked/session')).status, 200);
      await kicked.waitClosed();

      const trace = await call('GET', `/api/trace/${id}`);
      assert.equal(trace.status, 200);
      const t = trace.body;
      assert.equal(t.id, id);
      // Published: channel, publisher, QoS, retained, size, when, where; and its answer.
      assert.deepEqual({ ...t.published, at: undefined }, {
        channel, publisher: 'tr-pub', qos: 1, retained: false, bytes: JSON.stringify(data).length, pubId: 'm-1', at: undefined, node, status: 1, statusName: 'OK',
      });
      assert.ok(time(t.published.at) >= started - 5 && time(t.published.at) <= Date.now());
      // Stored for all three, the offline one included.
      assert.deepEqual([t.stored.count, [...t.stored.subscribers].sort(), t.stored.node], [3, ['tr-acker', 'tr-kicked', 'tr-offline'], node]);
      assert.ok(time(t.stored.at) >= time(t.published.at));
      // Pushed live to the two with a session, first attempt each; the offline one was not pushed.
      assert.deepEqual(t.pushed.map((step: any) => [step.clientId, step.attempt, step.via, step.node]).sort(), [['tr-acker', 1, 'live', node], ['tr-kicked', 1, 'live', node]]);
      for (const step of t.pushed) assert.ok(time(step.at) >= time(t.stored.at));
      // Acknowledged by one, after its push.
      assert.deepEqual(t.acknowledged.map((step: any) => [step.clientId, step.node]), [['tr-acker', node]]);
      assert.ok(time(t.acknowledged[0].at) >= time(t.pushed.find((step: any) => step.clientId === 'tr-acker').at));
      assert.deepEqual([t.deferred, t.dropped], [[], []]);
      // Still queued for the offline one and the kicked one, which never acknowledged.
      assert.deepEqual([...t.queued].sort(), ['tr-kicked', 'tr-offline']);
      assert.deepEqual(t.nodes, { answered: [node], missing: [] });
      assert.equal(t.truncated, 0);
      // The publisher's own id finds the same message.
      assert.deepEqual((await call('GET', `/api/trace/${encodeURIComponent('tr-pub:m-1')}`)).body, t);

      // The kicked one comes back: the replay pushes it again (attempt 2), and it acknowledges.
      const back = await connectClient(broker, 'tr-kicked');
      const again = await back.seen('push', { cn: channel, id });
      back.send({ pushAck: { id: again['id'], st: 1 } });
      await back.barrier();
      // The offline one's copy is purged by an operator.
      assert.deepEqual((await call('DELETE', '/api/clients/tr-offline/queue')).body, { clientId: 'tr-offline', removed: 1 });
      const later = (await call('GET', `/api/trace/${id}`)).body;
      assert.deepEqual(later.pushed.filter((step: any) => step.clientId === 'tr-kicked').map((step: any) => [step.attempt, step.via]), [[1, 'live'], [2, 'replay']]);
      assert.deepEqual(later.acknowledged.map((step: any) => step.clientId), ['tr-acker', 'tr-kicked']);
      assert.deepEqual(later.dropped.map((step: any) => [step.clientId, step.reason, step.node]), [['tr-offline', 'purged', node]]);
      assert.deepEqual(later.queued, []);
      for (const client of [acker, back, publisher]) client.close();
    });
  });

  it('why copies are dropped: queue full (refused), unsubscribed, expired; counted per client too', async () => {
    await withBroker({ MAX_QUEUED_PER_CLIENT: 2 }, async (broker, call) => {
      for (const target of ['dr-full', 'dr-unsub', 'dr-expire']) await call('PUT', `/api/clients/${target}/subscriptions/dr/${target}`, { persistent: true });
      const publisher = await connectClient(broker, 'dr-pub');
      const pub = (channel: string, id: string) => publisher.request({ pub: { cn: channel, dt: id, q: 1, id } }, 'pubAck', { id });
      for (const n of [1, 2]) assert.equal((await pub('dr/dr-full', `f${n}`))['st'], 1);
      assert.equal((await pub('dr/dr-full', 'f3'))['st'], 0, 'the third would overflow dr-full: refused');
      const refused = (await call('GET', '/api/trace/dr-pub:f3')).body;
      assert.deepEqual([refused.published.status, refused.stored, refused.pushed, refused.queued], [0, null, [], []]);
      assert.deepEqual(refused.dropped.map((step: any) => [step.clientId, step.reason]), [['dr-full', 'queue full']]);
      assert.equal((await call('GET', '/api/clients/dr-full')).body.counters.dropped.queueFull, 1);

      await pub('dr/dr-unsub', 'u1');
      await call('DELETE', '/api/clients/dr-unsub/subscriptions/dr/dr-unsub');
      const unsub = (await call('GET', '/api/trace/dr-pub:u1')).body;
      assert.deepEqual([unsub.dropped.map((step: any) => [step.clientId, step.reason]), unsub.queued], [[['dr-unsub', 'unsubscribed']], []]);

      await pub('dr/dr-expire', 'e1');
      // Eight days on, for the expiry: dr-expire never had a session.
      assert.ok((await broker.broker.expireClients(Date.now() + 8 * 86_400_000)) >= 1);
      const expired = (await call('GET', '/api/trace/dr-pub:e1')).body;
      assert.deepEqual(expired.dropped.map((step: any) => [step.clientId, step.reason]), [['dr-expire', 'expired']]);
      const events = (await call('GET', '/api/events?clientId=dr-full')).body.events;
      assert.ok(events.some((event: any) => event.kind === 'drop' && event.reason === 'queue full'));
      publisher.close();
    });
  });

  it('drop-oldest: the evicted copy\'s trace says so; a QoS 1 push to a client over its outbound cap is deferred', async () => {
    await withBroker({ MAX_QUEUED_PER_CLIENT: 2, QUEUE_POLICY: 'drop-oldest', OUTBOUND_BUFFER_BYTES: 4096 }, async (broker, call) => {
      await call('PUT', '/api/clients/ev-away/subscriptions/ev/ch', { persistent: true });
      const publisher = await connectClient(broker, 'ev-pub');
      for (const n of [1, 2, 3]) await publisher.request({ pub: { cn: 'ev/ch', dt: n, q: 1, id: `e${n}` } }, 'pubAck', { st: 1 });
      const first = (await call('GET', '/api/trace/ev-pub:e1')).body;
      assert.deepEqual([first.dropped.map((step: any) => [step.clientId, step.reason]), first.queued], [[['ev-away', 'evicted']], []]);
      assert.deepEqual((await call('GET', '/api/trace/ev-pub:e3')).body.queued, ['ev-away']);
      assert.equal((await call('GET', '/api/clients/ev-away')).body.counters.dropped.evicted, 1);

      // A subscriber that does not read: QoS 0 pushes to it are dropped, then a QoS 1 push is deferred.
      const frozen = await connectClient(broker, 'ev-frozen');
      await frozen.request({ sub: { cn: 'ev/flood', pr: 1 } }, 'subAck', { st: 1 });
      frozen.rawSocket!.pause();
      const big = 'x'.repeat(16 * 1024);
      // Until the kernel's buffers are full too and the broker's stays over the cap: then a QoS 1 push waits.
      let deferred: any = null;
      for (let round = 1; !deferred && round <= 200; round++) {
        for (let n = 0; n < 50; n++) publisher.send({ pub: { cn: 'ev/flood', dt: big } });
        await publisher.request({ pub: { cn: 'ev/flood', dt: 'important', q: 1, id: `d${round}` } }, 'pubAck', { st: 1 });
        const trace = (await call('GET', `/api/trace/ev-pub:d${round}`)).body;
        if (trace.deferred.length > 0) deferred = trace;
      }
      assert.ok(deferred, 'a QoS 1 push deferred');
      assert.deepEqual([deferred.deferred.map((step: any) => step.clientId), deferred.pushed, deferred.queued], [['ev-frozen'], [], ['ev-frozen']]);
      const counters = (await call('GET', '/api/clients/ev-frozen')).body.counters;
      assert.ok(counters.dropped.outboundCap > 0 && counters.deferred >= 1, JSON.stringify(counters));
      assert.ok((await call('GET', '/api/events?clientId=ev-frozen')).body.events.some((event: any) => event.kind === 'drop' && event.reason === 'outbound cap'));
      frozen.rawSocket!.destroy();
      publisher.close();
    });
  });

  it('QoS 0 is traced by its pub id only, one record per publish (sessions reached), nothing per push', async () => {
    await withBroker({}, async (broker, call) => {
      const subscribers = await Promise.all(['q0-a', 'q0-b'].map((id) => connectClient(broker, id)));
      for (const subscriber of subscribers) await subscriber.request({ sub: { cn: 'q0/ch', pr: 0 } }, 'subAck', { st: 1 });
      const publisher = await connectClient(broker, 'q0-pub');
      publisher.send({ pub: { cn: 'q0/ch', dt: 'with id', id: 'z1' } });
      publisher.send({ pub: { cn: 'q0/ch', dt: 'without' } });
      await Promise.all(subscribers.map((subscriber) => subscriber.seen('push', { dt: 'without' })));
      const trace = (await call('GET', '/api/trace/q0-pub:z1')).body;
      assert.deepEqual([trace.published.qos, trace.published.reached, trace.published.status, trace.stored, trace.pushed], [0, 2, 1, null, []]);
      assert.equal(broker.broker.monitor.trace.size, 1, 'the pub without an id left no record');
      for (const client of [...subscribers, publisher]) client.close();
    });
  });

  it('bounded: TRACE_MAX_MESSAGES forgets the oldest first, TRACE_SECONDS forgets in time, 0 turns it off', async () => {
    await withBroker({ TRACE_MAX_MESSAGES: 5, TRACE_SECONDS: 2 }, async (broker, call) => {
      const publisher = await connectClient(broker, 'bd-pub');
      await call('PUT', '/api/clients/bd-sub/subscriptions/bd/ch', { persistent: true });
      for (let n = 1; n <= 8; n++) await publisher.request({ pub: { cn: 'bd/ch', dt: n, q: 1, id: `b${n}` } }, 'pubAck', { st: 1 });
      const found = await Promise.all(Array.from({ length: 8 }, (_, n) => call('GET', `/api/trace/bd-pub:b${n + 1}`)));
      assert.deepEqual(found.map((answer) => answer.status), [404, 404, 404, 200, 200, 200, 200, 200]);
      assert.ok(broker.broker.monitor.trace.size <= 5);
      await waitFor(async () => (await call('GET', '/api/trace/bd-pub:b8')).status === 404, 'b8 forgotten after TRACE_SECONDS', 5000);
      publisher.close();
    });
    await withBroker({ TRACE_MAX_MESSAGES: 0 }, async (broker, call) => {
      const answer = await call('POST', '/api/publish', { channel: 'off', data: 1, qos: 1 });
      const trace = await call('GET', `/api/trace/${answer.body.id}`);
      assert.deepEqual([trace.status, trace.body.error], [404, 'tracing is off (TRACE_MAX_MESSAGES = 0)']);
      assert.equal(broker.broker.monitor.trace.size, 0);
    });
  });

  it('the store keeps within its weight: one message never fills it alone, and big ones are cut, not lost', () => {
    const store = new TraceStore(60_000, 10);
    store.published('big', { channel: 'c', publisher: 'p', qos: 1, retained: false, bytes: 1, at: Date.now() });
    store.stored('big', Array.from({ length: 500 }, (_, n) => `s${n}`));
    for (let n = 0; n < 500; n++) store.step('big', { kind: 'pushed', clientId: `s${n}`, at: Date.now() });
    const view = store.view('big', 'n')!;
    assert.ok(view.stored!.length <= 10 && view.steps.length <= 20, `${view.stored!.length} stored, ${view.steps.length} steps kept`);
    assert.equal(view.storedTotal, 500);
    assert.equal(view.truncated, 500 - view.stored!.length + 500 - view.steps.length);
    for (let n = 0; n < 20; n++) store.published(`m${n}`, { channel: 'c', publisher: 'p', qos: 0, retained: false, bytes: 1, at: Date.now() });
    assert.equal(store.size, 10);
    assert.equal(store.view('big', 'n'), null, 'the oldest went first');
  });
});
