/**
 * JmqtClient against a scripted NUL-framed JSON server on a real TCP socket
 * (node:net, in this file). The server is no broker: each test reads the
 * client's packets in order and answers what the script says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { NulFramer } from '../framer';
import { JmqtClient } from './jmqt-client';
import { JmqtError } from './errors';
import { NodeSocketTransport } from './node/socket-transport';
import { TransportBase, type ConnectionSink } from './transport';
import { DRAINING_CLOSE_CODE, DRAINING_REASON, webSocketCloseReason } from '../keys';
import type { JmqtClientEvents, JmqtClientOptions, PushEvent, StateEvent } from './types';

interface Received { type: string; body: Record<string, unknown>; socket: net.Socket }

class ScriptedServer {
  /** Every byte received, NULs included, to check the framing on the wire. */
  raw = '';
  readonly sockets: net.Socket[] = [];
  private readonly inbox: Received[] = [];
  private readonly waiters: Array<(item: Received) => void> = [];

  private constructor(private readonly server: net.Server) {
    server.on('connection', (socket) => {
      this.sockets.push(socket);
      const framer = new NulFramer(1 << 20);
      socket.on('data', (chunk) => {
        this.raw += chunk.toString('utf8');
        framer.push(chunk, (frame) => {
          const root = JSON.parse(new TextDecoder().decode(frame)) as Record<string, Record<string, unknown>>;
          const [type] = Object.keys(root);
          const item = { type, body: root[type], socket };
          const waiter = this.waiters.shift();
          if (waiter) waiter(item);
          else this.inbox.push(item);
        });
      });
      socket.on('error', () => undefined);
    });
  }

  static async start(): Promise<ScriptedServer> {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new ScriptedServer(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The client's next packet, from any connection. */
  next(timeoutMs = 2000): Promise<Received> {
    const ready = this.inbox.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no packet from the client')), timeoutMs);
      this.waiters.push((item) => {
        clearTimeout(timer);
        resolve(item);
      });
    });
  }

  /** Sends packets (objects) NUL-terminated, all in one write. */
  send(socket: net.Socket, ...packets: object[]): void {
    socket.write(packets.map((packet) => JSON.stringify(packet) + '\0').join(''));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** The client's next `event`, or a failure after `timeoutMs`. */
function nextEvent<K extends keyof JmqtClientEvents>(client: JmqtClient, event: K, timeoutMs = 2000): Promise<JmqtClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event`)), timeoutMs);
    client.once(event, (value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function setup(options: JmqtClientOptions = {}) {
  const server = await ScriptedServer.start();
  const client = new JmqtClient(new NodeSocketTransport({ host: '127.0.0.1', port: server.port }), options);
  const states: string[] = [];
  client.on('state', ({ state }: StateEvent) => states.push(state));
  const done = async () => {
    await client.disconnect(false);
    await server.close();
  };
  return { server, client, states, done };
}

/** Scripted auth + conn; answers with `token` and `ts`. */
async function openSession(server: ScriptedServer, client: JmqtClient, token = 'tok', ts = 15) {
  const auth = client.auth({ client_name: 'c1' });
  const a = await server.next();
  assert.equal(a.type, 'auth');
  server.send(a.socket, { authAck: { st: 1, at: token, cl: 'c1' } });
  assert.deepEqual(await auth, { status: 1, token, clientId: 'c1', message: undefined });
  const conn = client.conn('c1', token);
  const c = await server.next();
  assert.deepEqual(c.body, { at: token, cl: 'c1' });
  server.send(c.socket, { connAck: { st: 1, ts } });
  assert.deepEqual(await conn, { status: 1, ts });
  return a.socket;
}

test('auth and conn resolve with their acks; every packet ends with exactly one NUL', async () => {
  const { server, client, states, done } = await setup();
  await openSession(server, client);
  assert.equal(client.state, 'session');
  assert.equal(client.clientId, 'c1');
  assert.deepEqual(states, ['connecting', 'open', 'session']);
  assert.equal(server.raw, '{"auth":{"dt":{"client_name":"c1"}}}\0{"conn":{"at":"tok","cl":"c1"}}\0');
  await done();
});

test('matches acks by channel (FIFO) and by id with several requests in flight', async () => {
  const { server, client, done } = await setup();
  const socket = await openSession(server, client);
  const subA1 = client.sub('a');
  const subB = client.sub(' b ', true);
  const subA2 = client.sub('a', true);
  const unsubC = client.unsub('c');
  const pub1 = client.pub('x', 'one', { qos: 1 });
  const pub2 = client.pub('x', { two: 2 }, { qos: 1, retain: true });
  const control = client.pub('$mySubscriptions', {});
  const sent = await Promise.all(Array.from({ length: 7 }, () => server.next()));
  assert.deepEqual(sent.map((p) => p.type), ['sub', 'sub', 'sub', 'unsub', 'pub', 'pub', 'pub']);
  assert.deepEqual(sent[1].body, { cn: 'b', pr: 1 });
  assert.deepEqual(sent[5].body, { cn: 'x', dt: { two: 2 }, q: 1, rt: 1, id: sent[5].body['id'] });
  assert.equal(sent[6].body['q'], 0, 'control pub: id, no QoS 1 needed');
  const [id1, id2, id3] = sent.slice(4).map((p) => p.body['id'] as string);
  assert.equal(new Set([id1, id2, id3]).size, 3);
  // Answers in reverse order, split mid-packet across two writes.
  const answers = [
    { pubAck: { st: 1, id: id3, dt: { channels: { '#c1': 'persistent' } } } },
    { pubAck: { st: 8, id: id2 } },
    { pubAck: { st: 1, id: id1 } },
    { unsubAck: { st: 1, cn: 'c' } },
    { subAck: { st: 1, cn: 'a' } },
    { subAck: { st: 11, cn: 'b' } },
    { subAck: { st: 7, cn: 'a' } },
  ];
  const wire = answers.map((a) => JSON.stringify(a) + '\0').join('');
  socket.write(wire.slice(0, 50));
  await new Promise((resolve) => setTimeout(resolve, 20)); // so the client reads the two parts separately
  socket.write(wire.slice(50));
  assert.deepEqual(await subA1, { status: 1, channel: 'a' });
  assert.deepEqual(await subB, { status: 11, channel: 'b' });
  assert.deepEqual(await subA2, { status: 7, channel: 'a' });
  assert.deepEqual(await unsubC, { status: 1, channel: 'c' });
  assert.deepEqual(await pub1, { status: 1, id: id1, data: undefined });
  assert.deepEqual(await pub2, { status: 8, id: id2, data: undefined });
  assert.deepEqual(await control, { status: 1, id: id3, data: { channels: { '#c1': 'persistent' } } });
  await done();
});

test('a QoS 0 pub resolves once written, carries no id, expects no ack', async () => {
  const { server, client, done } = await setup();
  await openSession(server, client);
  assert.deepEqual(await client.pub('x', 'hi'), { status: 1 });
  assert.deepEqual((await server.next()).body, { cn: 'x', dt: 'hi', q: 0, rt: 0 });
  await done();
});

test('a QoS 0 pub given an id carries it; its refusal, which no request waits for, comes as a pubAck event', async () => {
  const { server, client, done } = await setup();
  const socket = await openSession(server, client);
  assert.deepEqual(await client.pub('update', 'hi', { id: 'q0-1' }), { status: 1, id: 'q0-1' });
  assert.deepEqual((await server.next()).body, { cn: 'update', dt: 'hi', q: 0, rt: 0, id: 'q0-1' });
  const refusal = nextEvent(client, 'pubAck');
  server.send(socket, { pubAck: { st: 7, id: 'q0-1' } });
  assert.deepEqual(await refusal, { status: 7, id: 'q0-1', data: undefined });
  await done();
});

test('a given id is used for QoS 1 too, and the pubAck answers the request, not the event', async () => {
  const { server, client, done } = await setup();
  const socket = await openSession(server, client);
  const events: unknown[] = [];
  client.on('pubAck', (event) => events.push(event));
  const pub = client.pub('x', 1, { qos: 1, id: 'mine' });
  assert.equal((await server.next()).body['id'], 'mine');
  server.send(socket, { pubAck: { st: 1, id: 'mine' } });
  assert.deepEqual(await pub, { status: 1, id: 'mine', data: undefined });
  assert.deepEqual(events, []);
  await done();
});

test('invalid channel names answer 11 without a round trip', async () => {
  const { server, client, done } = await setup();
  await openSession(server, client);
  assert.deepEqual(await client.sub('  '), { status: 11, channel: '  ' });
  assert.deepEqual(await client.unsub('#'), { status: 11, channel: '#' });
  assert.deepEqual(await client.pub('$', 1, { qos: 1 }), { status: 11 });
  await done();
});

test('QoS 1 pushes are acked automatically; QoS 0 and retained pushes are not', async () => {
  const { server, client, done } = await setup();
  const socket = await openSession(server, client);
  const pushes: PushEvent[] = [];
  client.on('push', (push) => pushes.push(push));
  server.send(
    socket,
    { push: { cn: 'm', dt: 'q0', cl: 'a' } },
    { push: { cn: 'm', dt: { n: 1 }, cl: 'b', q: 1, id: 'p1' } },
    { push: { cn: 'm', dt: 'kept', cl: '', rt: 1 } },
  );
  const ack = await server.next();
  assert.deepEqual([ack.type, ack.body], ['pushAck', { id: 'p1', st: 1 }]);
  await client.pub('marker', 0);
  assert.equal((await server.next()).type, 'pub', 'no other pushAck before the marker');
  assert.deepEqual(pushes, [
    { channel: 'm', sender: 'a', data: 'q0', qos: 0, retained: false, id: undefined },
    { channel: 'm', sender: 'b', data: { n: 1 }, qos: 1, retained: false, id: 'p1' },
    { channel: 'm', sender: '', data: 'kept', qos: 0, retained: true, id: undefined },
  ]);
  await done();
});

test('heartbeat: hb on schedule, kept alive by hbAck, closed after silence', async () => {
  const { server, client, states, done } = await setup({ heartbeat: { intervalMs: 40, timeoutMs: 100 } });
  await openSession(server, client);
  for (let i = 0; i < 3; i++) {
    const hb = await server.next();
    assert.deepEqual([hb.type, hb.body], ['hb', {}]);
    server.send(hb.socket, { hbAck: {} });
  }
  const started = Date.now();
  const event = await nextEvent(client, 'disconnect');
  assert.deepEqual(event, { reason: 'heartbeat timeout', willReconnect: false });
  assert.ok(Date.now() - started < 500);
  assert.equal(states.at(-1), 'closed');
  await done();
});

test('every waiting request rejects with status 9 when the connection goes away', async () => {
  const { server, client, done } = await setup();
  const socket = await openSession(server, client);
  const waiting = [client.sub('a'), client.pub('x', 1, { qos: 1 }), client.auth('again')];
  await Promise.all(waiting.map(() => server.next()));
  const disconnected = nextEvent(client, 'disconnect');
  socket.destroy();
  for (const request of waiting) {
    await assert.rejects(request, (error: JmqtError) => error instanceof JmqtError && error.status === 9 && error.code === 'network');
  }
  assert.equal((await disconnected).reason, 'connection closed by server');
  assert.equal(client.state, 'closed');
  await assert.rejects(client.sub('a'), (error: JmqtError) => error.status === 9);
  await done();
});

test('a request times out with -1; its late answer is not taken for the next one', async () => {
  const { server, client, done } = await setup({ requestTimeoutMs: 100 });
  const socket = await openSession(server, client);
  await assert.rejects(client.sub('a'), (error: JmqtError) => error.status === -1 && error.code === 'timeout');
  const second = client.sub('a');
  await server.next();
  await server.next();
  server.send(socket, { subAck: { st: 7, cn: 'a' } }, { subAck: { st: 1, cn: 'a' } });
  assert.deepEqual(await second, { status: 1, channel: 'a' });
  await done();
});

test('a malformed server packet is reported and ignored', async () => {
  const { server, client, done } = await setup();
  const socket = await openSession(server, client);
  const error = nextEvent(client, 'error');
  socket.write('{"nonsense":{}}\0');
  assert.equal((await error).status, 10);
  const sub = client.sub('a');
  server.send((await server.next()).socket, { subAck: { st: 1, cn: 'a' } });
  assert.equal((await sub).status, 1);
  await done();
});

test('disconnect sends disconn, closes, and does not reconnect', async () => {
  const { server, client, states, done } = await setup({ reconnect: { initialDelayMs: 10 } });
  await openSession(server, client);
  await client.disconnect();
  assert.equal((await server.next()).type, 'disconn');
  // Time for the reconnect timer under test: five times its 10 ms delay, and no reconnect came.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(states, ['connecting', 'open', 'session', 'closed']);
  assert.equal(server.sockets.length, 1);
  await done();
});

test('reconnect re-sends auth, conn with the new token, and renews temporary subscriptions', async () => {
  const { server, client, states, done } = await setup({ reconnect: { initialDelayMs: 20, maxDelayMs: 20, jitter: 0 } });
  const socket = await openSession(server, client, 'tok1');
  const subs = [client.sub('temp'), client.sub('kept', true)];
  await server.next();
  await server.next();
  server.send(socket, { subAck: { st: 1, cn: 'temp' } }, { subAck: { st: 1, cn: 'kept' } });
  await Promise.all(subs);
  const disconnected = nextEvent(client, 'disconnect');
  socket.destroy();
  assert.deepEqual((await disconnected), { reason: 'connection closed by server', willReconnect: true });
  const auth = await server.next();
  assert.notEqual(auth.socket, socket);
  assert.deepEqual([auth.type, auth.body], ['auth', { dt: { client_name: 'c1' } }]);
  server.send(auth.socket, { authAck: { st: 1, at: 'tok2', cl: 'c1' } });
  const conn = await server.next();
  assert.deepEqual([conn.type, conn.body], ['conn', { at: 'tok2', cl: 'c1' }]);
  server.send(conn.socket, { connAck: { st: 1, ts: 15 } });
  const renewed = await server.next();
  assert.deepEqual([renewed.type, renewed.body], ['sub', { cn: 'temp', pr: 0 }]);
  assert.deepEqual(states, ['connecting', 'open', 'session', 'reconnecting', 'connecting', 'open', 'session']);
  await done();
});

test('reconnect keeps trying while the server is away, and gives up when auth is refused', async () => {
  const { server, client, states } = await setup({ reconnect: { initialDelayMs: 20, maxDelayMs: 40 } });
  const port = server.port;
  await server.close();
  await assert.rejects(client.auth({ client_name: 'c1' }), (error: JmqtError) => error.status === 9);
  // Time for the reconnect timer under test: 150 ms hold at least two attempts 20 to 40 ms apart.
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.ok(states.filter((s) => s === 'reconnecting').length >= 2, states.join());
  // The broker comes back on the same port and refuses the credentials.
  const back = net.createServer((socket) => socket.on('data', () => socket.write('{"authAck":{"st":10,"mg":"no"}}\0')));
  back.listen(port, '127.0.0.1');
  const event = await nextEvent(client, 'disconnect');
  assert.deepEqual(event, { reason: 'reconnect: auth answered status 10', willReconnect: false });
  assert.equal(client.state, 'closed');
  back.close();
});

test('a drain close (WebSocket 4002) reconnects at once; any other drop waits the first backoff delay', async () => {
  /** A transport whose connections open at once and end when the test says. */
  class Manual extends TransportBase {
    sink: ConnectionSink | null = null;
    readonly starts: number[] = [];
    protected start(sink: ConnectionSink): void {
      this.sink = sink;
      this.starts.push(Date.now());
      setImmediate(() => sink.open());
    }
    protected stop(): void {
      this.sink = null;
    }
    protected write(): Promise<void> {
      return Promise.resolve();
    }
  }
  const transport = new Manual();
  const client = new JmqtClient(transport, { reconnect: { initialDelayMs: 300, jitter: 0 }, heartbeat: false });
  await client.open();
  for (const [reason, immediate] of [[webSocketCloseReason(DRAINING_CLOSE_CODE, DRAINING_REASON), true], ['connection closed by server', false]] as const) {
    const opened = nextEvent(client, 'state');
    const closedAt = Date.now();
    const disconnected = nextEvent(client, 'disconnect');
    transport.sink!.close(reason);
    assert.deepEqual(await disconnected, { reason, willReconnect: true });
    assert.equal((await opened).state, 'reconnecting');
    while (client.state !== 'open') await new Promise((resolve) => setTimeout(resolve, 5));
    const waited = transport.starts.at(-1)! - closedAt;
    if (immediate) assert.ok(waited < 50, `reconnected ${waited} ms after the drain close`);
    else assert.ok(waited >= 290, `reconnected ${waited} ms after a plain close`);
  }
  await client.disconnect(false);
});
