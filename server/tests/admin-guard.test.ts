/**
 * The admin API's guard on every new endpoint and on the live events socket:
 * with ADMIN_TOKEN a bearer token (for the socket also `?token=` or a first
 * message); without it loopback callers only, for a loopback Host, and no
 * foreign Origin for anything that changes something or opens the socket.
 * The JMQT WebSocket paths stay as they are.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { api, LiveEvents, startLoggedBroker, type LoggedBroker } from '../testing/admin-client';
import { connectClient } from '../testing/harness';

const TOKEN = 'admin-secret-token';

const ENDPOINTS: Array<[string, string, unknown?]> = [
  ['GET', '/api/clients?search=x&limit=5'],
  ['GET', '/api/clients/someone'],
  ['DELETE', '/api/clients/someone/session'],
  ['PUT', '/api/clients/someone/subscriptions/ch', { persistent: true }],
  ['DELETE', '/api/clients/someone/subscriptions/ch'],
  ['GET', '/api/clients/someone/queue?limit=5'],
  ['DELETE', '/api/clients/someone/queue'],
  ['GET', '/api/retained?prefix=a'],
  ['DELETE', '/api/retained/ch'],
  ['POST', '/api/publish', { channel: 'ch', data: 1 }],
  ['GET', '/api/trace/abc'],
  ['GET', '/api/events?limit=5'],
];

describe('admin guard with ADMIN_TOKEN', () => {
  let broker: LoggedBroker;
  before(async () => { broker = await startLoggedBroker({ ADMIN_TOKEN: TOKEN }); });
  after(async () => { await broker?.destroy(); });

  it('every endpoint answers 401 without the token or with a wrong one, and serves it with the right one', async () => {
    for (const [method, path, body] of ENDPOINTS) {
      const none = await api(broker.ports.webSocket, method, path, { body });
      assert.equal(none.status, 401, `${method} ${path} without a token`);
      const wrong = await api(broker.ports.webSocket, method, path, { body, token: 'not-it' });
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
      const right = await api(broker.ports.webSocket, method, path, { body, token: TOKEN });
      assert.ok(right.status !== 401 && right.status !== 403 && right.status < 500, `${method} ${path} with the token: ${right.status}`);
    }
  });

  it('the live events socket: the token in the header, in ?token= or as the first message; otherwise refused', async () => {
    const port = broker.ports.webSocket;
    await assert.rejects(LiveEvents.open(port, '/api/events/live?token=wrong'), { status: 401 });
    for (const live of [
      await LiveEvents.open(port, `/api/events/live?token=${TOKEN}`),
      await LiveEvents.open(port, '/api/events/live', { authorization: `Bearer ${TOKEN}` }),
    ]) {
      await live.until((l) => l.messages.some((message) => message.hello), 'hello');
      live.close();
    }
    const first = await LiveEvents.open(port);
    first.ws.send(JSON.stringify({ token: TOKEN }));
    await first.until((l) => l.messages.some((message) => message.hello), 'hello after the token message');
    const client = await connectClient(broker, 'guard-watched');
    await first.until((l) => l.events().some((event) => event.kind === 'session-start' && event.clientId === 'guard-watched'), 'the session start');
    client.close();
    first.close();
    const bad = await LiveEvents.open(port);
    bad.ws.send(JSON.stringify({ token: 'nope' }));
    await bad.until((l) => l.closeCode !== null, 'the close');
    assert.equal(bad.closeCode, 1008);
    assert.equal(bad.events().length, 0);
  });
});

describe('admin guard without ADMIN_TOKEN', () => {
  let broker: LoggedBroker;
  before(async () => { broker = await startLoggedBroker(); });
  after(async () => { await broker?.destroy(); });

  it('a web page of another origin may not change anything nor open the live socket; a rebound Host gets 403', async () => {
    const port = broker.ports.webSocket;
    const foreign = { origin: 'https://attacker.example' };
    for (const [method, path, body] of ENDPOINTS) {
      const answer = await api(port, method, path, { body, headers: foreign });
      if (method === 'GET') assert.notEqual(answer.status, 403, `${method} ${path}: a read (the browser keeps the answer from the page)`);
      else assert.equal(answer.status, 403, `${method} ${path} from a foreign origin`);
      assert.equal((await api(port, method, path, { body, headers: { host: 'attacker.example' } })).status, 403, `${method} ${path} for Host attacker.example`);
    }
    assert.equal((await api(port, 'POST', '/api/publish', { body: { channel: 'ch', data: 1 }, headers: { origin: `http://localhost:${port}` } })).status, 200);
    await assert.rejects(LiveEvents.open(port, '/api/events/live', foreign), { status: 403 });
    await assert.rejects(LiveEvents.open(port, '/api/events/live', { host: 'attacker.example' }), { status: 403 });
    const local = await LiveEvents.open(port, '/api/events/live', { origin: 'http://127.0.0.1:4200' });
    await local.until((l) => l.messages.some((message) => message.hello), 'hello');
    local.close();
  });

  it('the JMQT WebSocket paths / and /ws still carry JMQT; other upgrade paths under /api get 404', async () => {
    for (const path of ['/', '/ws']) {
      const ws = await LiveEvents.open(broker.ports.webSocket, path);
      ws.ws.send(JSON.stringify({ hb: {} }));
      ws.ws.send(JSON.stringify({ sub: { cn: 'x', pr: 0 } }));
      await ws.until((l) => l.messages.some((message) => message.subAck), 'a subAck');
      assert.deepEqual(ws.messages.find((message) => message.subAck), { subAck: { st: 7, cn: 'x' } });
      ws.close();
    }
    await assert.rejects(LiveEvents.open(broker.ports.webSocket, '/api/events/other'), { status: 404 });
  });
});
