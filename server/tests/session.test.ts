import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, RawClient, startTestBroker, type TestBroker } from '../testing/harness';

describe('sessions (protocol 5)', () => {
  let broker: TestBroker;
  before(async () => { broker = await startTestBroker({ TIMEOUT_SECONDS: 3 }); });
  after(() => broker.destroy());

  it('auth may come several times before conn, and the sample app wants client_name', async () => {
    const client = await RawClient.open('tcp', broker.ports.socket);
    const refused = await client.request({ auth: { dt: {} } }, 'authAck');
    assert.equal(refused['st'], 10);
    assert.ok(typeof refused['mg'] === 'string' && refused['mg'].length > 0);
    const first = await client.request({ auth: { dt: { client_name: 'alice' } } }, 'authAck');
    const second = await client.request({ auth: { dt: { client_name: 'alice' } } }, 'authAck');
    assert.equal(first['st'], 1);
    assert.equal(first['cl'], 'alice');
    assert.equal(second['st'], 1);
    const connAck = await client.request({ conn: { at: second['at'], cl: 'alice' } }, 'connAck');
    assert.deepEqual(connAck, { st: 1, ts: 3 });
    client.close();
  });

  it('refuses a token issued for another client id with 6', async () => {
    const client = await RawClient.open('tcp', broker.ports.socket);
    const ack = await client.request({ auth: { dt: { client_name: 'mallory' } } }, 'authAck');
    assert.deepEqual(await client.request({ conn: { at: ack['at'], cl: 'victim' } }, 'connAck'), { st: 6 });
    assert.deepEqual(await client.request({ conn: { at: 'forged', cl: 'victim' } }, 'connAck'), { st: 6 });
    client.close();
  });

  it('before a session: sub, unsub and pub get 7; hb, pushAck and disconn are ignored', async () => {
    const client = await RawClient.open('tcp', broker.ports.socket);
    assert.deepEqual(await client.request({ sub: { cn: 'a', pr: 1 } }, 'subAck'), { st: 7, cn: 'a' });
    assert.deepEqual(await client.request({ unsub: { cn: 'a' } }, 'unsubAck'), { st: 7, cn: 'a' });
    assert.deepEqual(await client.request({ pub: { cn: 'a', dt: 1, q: 1, id: '4' } }, 'pubAck'), { st: 7, id: '4' });
    client.send({ hb: {} });
    client.send({ pushAck: { id: 'x' } });
    client.send({ disconn: {} });
    const stillOpen = await client.request({ auth: { dt: { client_name: 'pre' } } }, 'authAck');
    assert.equal(stillOpen['st'], 1);
    assert.equal(client.all('hbAck').length, 0);
    assert.equal(client.closed, false);
    client.close();
  });

  it('answers hb with hbAck inside a session', async () => {
    const client = await connectClient(broker, 'beater');
    assert.deepEqual(await client.request({ hb: {} }, 'hbAck'), {});
    client.close();
  });

  it('subscribes every session to #clientId persistently, as the server', async () => {
    const client = await connectClient(broker, 'p2pself');
    const ack = await client.request({ pub: { cn: '$mySubscriptions', dt: {}, id: '8' } }, 'pubAck');
    assert.deepEqual(ack, { st: 1, id: '8', dt: { channels: { '#p2pself': 'persistent', update: 'persistent' } } });
    client.close();
  });

  it('a second session with the same client id takes over and the older connection is closed', async () => {
    const older = await connectClient(broker, 'twin');
    await older.request({ sub: { cn: 'twin-temp', pr: 0 } }, 'subAck');
    const newer = await connectClient(broker, 'twin', 'ws');
    await older.waitClosed();
    assert.equal(broker.broker.sessions.get('twin')?.protocol, 'WEB_SOCKET');
    // The older session ended: its temporary subscription went with it.
    const subs = await newer.request({ pub: { cn: '$mySubscriptions', dt: {}, id: '1' } }, 'pubAck');
    assert.deepEqual(subs['dt'], { channels: { '#twin': 'persistent', update: 'persistent' } });
    assert.deepEqual(await newer.request({ hb: {} }, 'hbAck'), {});
    newer.close();
  });

  it('a WebSocket session taken over is closed with code 4000 and the reason', async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`ws://127.0.0.1:${broker.ports.webSocket}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    ws.send(JSON.stringify({ conn: { at: broker.tokens.issue('replaced'), cl: 'replaced' } }));
    await new Promise((resolve) => ws.once('message', resolve));
    const newer = await connectClient(broker, 'replaced');
    const [code, reason] = await closed;
    assert.equal(code, 4000);
    assert.match(reason, /taken over/);
    newer.close();
  });

  it('conn on a connection that already has a session is refused with 7', async () => {
    const client = await connectClient(broker, 'double');
    assert.deepEqual(await client.request({ conn: { at: broker.tokens.issue('double'), cl: 'double' } }, 'connAck'), { st: 7 });
    client.close();
  });

  it('ends a session after ts seconds of silence, and closes a socket that never speaks', async () => {
    const quiet = await connectClient(broker, 'quiet');
    const silent = await RawClient.open('tcp', broker.ports.socket);
    const started = Date.now();
    await Promise.all([quiet.waitClosed(6000), silent.waitClosed(6000)]);
    assert.ok(Date.now() - started >= 2000, 'closed before the timeout');
    assert.equal(broker.broker.isConnected('quiet'), false);
  });

  it('every inbound packet resets the idle timer', async () => {
    const client = await connectClient(broker, 'chatty');
    // Time passes for the idle timer under test: 5 s in all, past ts = 3 s, but never 3 s without a packet.
    for (let i = 0; i < 5; i++) {
      await RawClient.pause(1000);
      await client.request({ hb: {} }, 'hbAck');
    }
    assert.equal(client.closed, false);
    client.close();
  });

  it('removes temporary subscriptions at session end and keeps persistent ones', async () => {
    const first = await connectClient(broker, 'keeper');
    await first.request({ sub: { cn: 'kept', pr: 1 } }, 'subAck', { st: 1 });
    await first.request({ sub: { cn: 'dropped', pr: 0 } }, 'subAck', { st: 1 });
    first.send({ disconn: {} });
    await first.waitClosed();
    const second = await connectClient(broker, 'keeper');
    const ack = await second.request({ pub: { cn: '$mySubscriptions', dt: {}, id: '2' } }, 'pubAck');
    assert.deepEqual(ack['dt'], { channels: { '#keeper': 'persistent', update: 'persistent', kept: 'persistent' } });
    second.close();
  });

  it('announces presence on update: online at conn, offline at session end', async () => {
    const watcher = await connectClient(broker, 'watcher');
    const online = watcher.next('push', { cn: 'update', dt: { online: 'comer' } });
    const comer = await connectClient(broker, 'comer');
    assert.equal((await online)['cl'], '');
    const offline = watcher.next('push', { cn: 'update', dt: { offline: 'comer' } });
    comer.send({ disconn: {} });
    await offline;
    assert.deepEqual(await watcher.request({ sub: { cn: 'update', pr: 1 } }, 'subAck'), { st: 7, cn: 'update' });
    assert.deepEqual(await watcher.request({ pub: { cn: 'update', dt: 1, q: 1, id: '1' } }, 'pubAck'), { st: 7, id: '1' });
    watcher.close();
  });
});
