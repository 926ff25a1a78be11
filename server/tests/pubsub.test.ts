import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, RawClient, startTestBroker, waitFor, type TestBroker } from '../testing/harness';

describe('publish and push (protocol 6, 7)', () => {
  let broker: TestBroker;
  before(async () => { broker = await startTestBroker(); });
  after(() => broker.destroy());

  it('QoS 0 reaches online subscribers without an ack, and the publisher is not echoed', async () => {
    const sub = await connectClient(broker, 'q0-sub');
    const pub = await connectClient(broker, 'q0-pub');
    await sub.request({ sub: { cn: 'news', pr: 0 } }, 'subAck', { st: 1 });
    await pub.request({ sub: { cn: 'news', pr: 0 } }, 'subAck', { st: 1 });
    const push = sub.next('push', { cn: 'news' });
    pub.send({ pub: { cn: 'news', dt: { text: 'héllo ✓' }, q: 0 } });
    assert.deepEqual(await push, { cn: 'news', dt: { text: 'héllo ✓' }, cl: 'q0-pub' });
    // An echo or a pubAck would have been written to pub while its pub was handled.
    await pub.barrier();
    assert.equal(pub.all('push').filter((p) => p['cn'] === 'news').length, 0);
    assert.equal(pub.all('pubAck').length, 0);
    sub.close();
    pub.close();
  });

  it('channel names are trimmed; $ and # channels cannot be subscribed (11)', async () => {
    const client = await connectClient(broker, 'namer');
    assert.deepEqual(await client.request({ sub: { cn: '  padded  ', pr: 0 } }, 'subAck'), { st: 1, cn: 'padded' });
    assert.deepEqual(await client.request({ sub: { cn: '   ', pr: 0 } }, 'subAck'), { st: 11, cn: '   ' });
    assert.deepEqual(await client.request({ sub: { cn: '$x', pr: 0 } }, 'subAck'), { st: 11, cn: '$x' });
    assert.deepEqual(await client.request({ sub: { cn: '#namer', pr: 0 } }, 'subAck'), { st: 11, cn: '#namer' });
    assert.deepEqual(await client.request({ unsub: { cn: '#namer' } }, 'unsubAck'), { st: 11, cn: '#namer' });
    assert.deepEqual(await client.request({ unsub: { cn: '$x' } }, 'unsubAck'), { st: 11, cn: '$x' });
    assert.deepEqual(await client.request({ unsub: { cn: 'padded' } }, 'unsubAck'), { st: 1, cn: 'padded' });
    assert.deepEqual(await client.request({ unsub: { cn: 'padded' } }, 'unsubAck'), { st: 0, cn: 'padded' });
    client.close();
  });

  it('after unsub nothing more arrives on that channel', async () => {
    const sub = await connectClient(broker, 'leaver');
    const pub = await connectClient(broker, 'stayer');
    await sub.request({ sub: { cn: 'leave-me', pr: 1 } }, 'subAck', { st: 1 });
    await sub.request({ unsub: { cn: 'leave-me' } }, 'unsubAck', { st: 1 });
    await pub.request({ pub: { cn: 'leave-me', dt: 'x', q: 1, id: 'u1' } }, 'pubAck', { st: 1 });
    await sub.barrier();
    assert.equal(sub.all('push').filter((p) => p['cn'] === 'leave-me').length, 0);
    sub.close();
    pub.close();
  });

  it('QoS 1: pubAck echoes the id, the push carries a server id, pushAck deletes the copy', async () => {
    const sub = await connectClient(broker, 'q1-sub');
    const pub = await connectClient(broker, 'q1-pub');
    await sub.request({ sub: { cn: 'orders', pr: 1 } }, 'subAck', { st: 1 });
    const push = sub.next('push', { cn: 'orders' });
    assert.deepEqual(await pub.request({ pub: { cn: 'orders', dt: [1, 2], q: 1, id: 77 } }, 'pubAck'), { st: 1, id: 77 });
    const pushed = await push;
    assert.equal(pushed['q'], 1);
    assert.equal(typeof pushed['id'], 'string');
    assert.deepEqual(pushed['dt'], [1, 2]);
    assert.equal((await broker.queuedFor('q1-sub')), 1);
    sub.send({ pushAck: { id: pushed['id'] } });
    await waitFor(async () => (await broker.queuedFor('q1-sub')) === 0);
    sub.close();
    pub.close();
  });

  it('QoS 1 to a channel with no subscribers stores nothing', async () => {
    const pub = await connectClient(broker, 'lonely');
    const before = (await broker.broker.storage.stats()).queued;
    assert.deepEqual(await pub.request({ pub: { cn: 'void', dt: 1, q: 1, id: 'v' } }, 'pubAck'), { st: 1, id: 'v' });
    assert.equal((await broker.broker.storage.stats()).queued, before);
    pub.close();
  });

  it('QoS 1 is stored for offline persistent subscribers and redelivered in order on the next session', async () => {
    const first = await connectClient(broker, 'sleeper');
    await first.request({ sub: { cn: 'inbox', pr: 1 } }, 'subAck', { st: 1 });
    first.send({ disconn: {} });
    await first.waitClosed();
    const pub = await connectClient(broker, 'sender');
    for (let i = 1; i <= 5; i++) await pub.request({ pub: { cn: 'inbox', dt: i, q: 1, id: `m${i}` } }, 'pubAck', { st: 1 });
    const again = await RawClient.open('tcp', broker.ports.socket);
    const auth = await again.request({ auth: { dt: { client_name: 'sleeper' } } }, 'authAck');
    const connAck = again.next('connAck');
    again.send({ conn: { at: auth['at'], cl: 'sleeper' } });
    await connAck;
    await waitFor(async () => again.all('push').filter((p) => p['cn'] === 'inbox').length === 5);
    const order = again.received.map((packet) => Object.keys(packet)[0]);
    assert.equal(order[order.indexOf('connAck') + 1], 'push', 'queued messages follow connAck');
    assert.deepEqual(again.all('push').filter((p) => p['cn'] === 'inbox').map((p) => p['dt']), [1, 2, 3, 4, 5]);
    again.close();
    pub.close();
  });

  it('unacknowledged QoS 1 copies are pushed again on the next session', async () => {
    const first = await connectClient(broker, 'forgetful');
    await first.request({ sub: { cn: 'again', pr: 1 } }, 'subAck', { st: 1 });
    const pub = await connectClient(broker, 'again-pub');
    const push = first.next('push', { cn: 'again' });
    await pub.request({ pub: { cn: 'again', dt: 'once', q: 1, id: 'a1' } }, 'pubAck', { st: 1 });
    const original = await push;
    first.close();
    await first.waitClosed();
    await waitFor(async () => !broker.broker.isConnected('forgetful'));
    const second = await connectClient(broker, 'forgetful');
    const redelivered = await second.seen('push', { cn: 'again' });
    assert.equal(redelivered['id'], original['id']);
    second.close();
    pub.close();
  });

  it('a temporary subscription ends with its session, and its queued copies with it', async () => {
    const temp = await connectClient(broker, 'temper');
    await temp.request({ sub: { cn: 'fleeting', pr: 0 } }, 'subAck', { st: 1 });
    temp.rawSocket!.pause(); // stop reading, so the copy stays unacknowledged
    const pub = await connectClient(broker, 'fleeting-pub');
    await pub.request({ pub: { cn: 'fleeting', dt: 1, q: 1, id: 'f' } }, 'pubAck', { st: 1 });
    assert.equal(await broker.queuedFor('temper'), 1);
    temp.rawSocket!.destroy();
    await waitFor(async () => (await broker.queuedFor('temper')) === 0);
    pub.close();
  });

  it('a resent QoS 1 pub with the same id is acknowledged without a second delivery', async () => {
    const sub = await connectClient(broker, 'dedupe-sub');
    await sub.request({ sub: { cn: 'dedupe', pr: 1 } }, 'subAck', { st: 1 });
    const pub = await connectClient(broker, 'dedupe-pub');
    await pub.request({ pub: { cn: 'dedupe', dt: 'x', q: 1, id: 'same' } }, 'pubAck', { st: 1 });
    await pub.request({ pub: { cn: 'dedupe', dt: 'x', q: 1, id: 'same' } }, 'pubAck', { st: 1, id: 'same' });
    await pub.request({ pub: { cn: 'dedupe', dt: 'y', q: 1, id: 'other' } }, 'pubAck', { st: 1 });
    // Every push of an acknowledged pub was written before its pubAck.
    await sub.barrier();
    assert.deepEqual(sub.all('push').filter((p) => p['cn'] === 'dedupe').map((p) => p['dt']), ['x', 'y']);
    sub.close();
    pub.close();
  });

  it('retained: latest per channel, pushed with rt:1 and no id on sub; dt:null clears it', async () => {
    const pub = await connectClient(broker, 'retainer');
    pub.send({ pub: { cn: 'weather', dt: 'rain', rt: 1 } });
    await pub.request({ pub: { cn: 'weather', dt: 'sun', q: 1, rt: true, id: 'r2' } }, 'pubAck', { st: 1 });
    const sub = await connectClient(broker, 'weather-sub');
    const retained = sub.next('push', { cn: 'weather' });
    await sub.request({ sub: { cn: 'weather', pr: 1 } }, 'subAck', { st: 1 });
    assert.deepEqual(await retained, { cn: 'weather', dt: 'sun', cl: 'retainer', rt: 1 });
    // Live delivery of a retained pub is a normal push.
    const live = sub.next('push', { cn: 'weather', dt: 'snow' });
    pub.send({ pub: { cn: 'weather', dt: 'snow', rt: 1 } });
    assert.deepEqual(await live, { cn: 'weather', dt: 'snow', cl: 'retainer' });
    await pub.request({ pub: { cn: 'weather', dt: null, q: 1, rt: 1, id: 'clear' } }, 'pubAck', { st: 1 });
    const late = await connectClient(broker, 'late-sub');
    await late.request({ sub: { cn: 'weather', pr: 0 } }, 'subAck', { st: 1 });
    // A retained message would follow the subAck, within the handling of the sub.
    await late.barrier();
    assert.equal(late.all('push').filter((p) => p['cn'] === 'weather').length, 0);
    pub.close(); sub.close(); late.close();
  });

  it('retained messages follow queued ones at session start, for every subscribed channel', async () => {
    const first = await connectClient(broker, 'returner');
    await first.request({ sub: { cn: 'ret-a', pr: 1 } }, 'subAck', { st: 1 });
    first.send({ disconn: {} });
    await first.waitClosed();
    const pub = await connectClient(broker, 'ret-pub');
    await pub.request({ pub: { cn: 'ret-a', dt: 'kept', q: 1, rt: 1, id: 'k' } }, 'pubAck', { st: 1 });
    const again = await connectClient(broker, 'returner');
    await waitFor(async () => again.all('push').length >= 2);
    const pushes = again.all('push').filter((p) => p['cn'] === 'ret-a');
    assert.equal(pushes[0]['q'], 1);
    assert.deepEqual(pushes[1], { cn: 'ret-a', dt: 'kept', cl: 'ret-pub', rt: 1 });
    again.close(); pub.close();
  });

  it('P2P #target reaches only the target; offline target answers 8, stored with QoS 1', async () => {
    const target = await connectClient(broker, 'bob');
    const other = await connectClient(broker, 'eve');
    const sender = await connectClient(broker, 'alice2');
    const push = target.next('push', { cn: '#bob' });
    await sender.request({ pub: { cn: '#bob', dt: 'psst', q: 1, id: 'p1' } }, 'pubAck', { st: 1 });
    assert.equal((await push)['cl'], 'alice2');
    assert.equal(other.all('push').filter((p) => p['cn'] === '#bob').length, 0);
    target.send({ disconn: {} });
    await target.waitClosed();
    await waitFor(async () => !broker.broker.isConnected('bob'));
    assert.deepEqual(await sender.request({ pub: { cn: '#bob', dt: 'later', q: 1, id: 'p2' } }, 'pubAck'), { st: 8, id: 'p2' });
    assert.deepEqual(await sender.request({ pub: { cn: '#bob', dt: 'gone', q: 0, id: 'p3' } }, 'pubAck'), { st: 8, id: 'p3' });
    assert.deepEqual(await sender.request({ pub: { cn: '#nobody', dt: 'x', q: 1, id: 'p4' } }, 'pubAck'), { st: 8, id: 'p4' });
    assert.deepEqual(await sender.request({ pub: { cn: '#bob', dt: 'x', rt: 1, id: 'p5' } }, 'pubAck'), { st: 8, id: 'p5' });
    const back = await connectClient(broker, 'bob');
    await back.seen('push', { cn: '#bob', dt: 'later' });
    // 'psst' was never acknowledged, so it comes again, before the newer one.
    assert.deepEqual(back.all('push').filter((p) => p['cn'] === '#bob').map((p) => p['dt']), ['psst', 'later']);
    // The original page sends P2P with rt:1: delivered as a normal push, never kept as retained.
    const live = back.next('push', { cn: '#bob', dt: 'compat' });
    sender.send({ pub: { cn: '#bob', dt: 'compat', rt: 1 } });
    assert.deepEqual(await live, { cn: '#bob', dt: 'compat', cl: 'alice2' });
    assert.equal((await broker.broker.storage.retainedFor(['#bob'])).length, 0);
    back.close(); other.close(); sender.close();
  });

  it('control channels: $mySubscriptions built in; others go to the application and are never delivered', async () => {
    const client = await connectClient(broker, 'controller');
    await client.request({ sub: { cn: 'temp-one', pr: 0 } }, 'subAck', { st: 1 });
    const mine = await client.request({ pub: { cn: '$mySubscriptions', dt: {}, id: 'c1' } }, 'pubAck');
    assert.deepEqual(mine, { st: 1, id: 'c1', dt: { channels: { '#controller': 'persistent', update: 'persistent', 'temp-one': 'temp' } } });
    const unknown = await client.request({ pub: { cn: '$unknown', dt: {}, id: 'c2' } }, 'pubAck');
    assert.equal(unknown['st'], 7);
    assert.equal(unknown['id'], 'c2');
    client.close();
  });

  it('force sub, force unsub and force pub from the server-side API', async () => {
    const client = await connectClient(broker, 'forced');
    await broker.broker.forceSubscribe('forced', 'ops', false);
    const push = client.next('push', { cn: 'ops' });
    await broker.broker.forcePublish('ops', { cmd: 'restart' }, { qos: 1 });
    const pushed = await push;
    assert.equal(pushed['cl'], '');
    assert.equal(pushed['q'], 1);
    assert.deepEqual(Object.fromEntries(await broker.broker.subscriptionsOf('forced')), { '#forced': true, update: true, ops: false });
    assert.equal(await broker.broker.forceUnsubscribe('forced', 'ops'), true);
    assert.equal(broker.broker.isConnected('forced'), true);
    assert.equal(broker.broker.isConnected('nobody-here'), false);
    await assert.rejects(broker.broker.forcePublish('$ctl', 1));
    client.close();
  });
});
