/**
 * Findings of the attack review that must stay fixed (protocol page, section
 * 11): log injection, QoS 1 queue floods, the admin API's Host check and
 * health body, hook answers after close, `$mySubscriptions` with prototype
 * names, and the sample application's start-up warning. Real brokers on real
 * sockets, default limits unless a comment says why.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, RawClient, startTestBroker, TEST_SECRET, type TestBroker } from '../testing/harness';
import { freePort, spawnBroker } from '../testing/process';
import { waitUntil } from '../../tools/wait';
import type { Config } from '../config';
import type { Application, Peer } from '../hooks';
import { createLogger, type Logger } from '../log';
import { sampleApplication } from '../sample-app';
import { startServer } from '../server';
import { TokenSigner } from '../tokens';
import { Status } from '../../shared/status';

/** startTestBroker with a logger of the test's own (the harness logs to standard output). */
async function startLoggedBroker(config: Partial<Config>, log: Logger, application?: Partial<Application>): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-attack-'));
  const tokens = new TokenSigner(TEST_SECRET, 3600);
  const server = await startServer({
    config: { SOCKET_PORT: 0, WEBSOCKET_PORT: 0, BIND_ADDRESS: '127.0.0.1', SQLITE_PATH: join(dir, 'jmqt.db'), SQLITE_SYNC: 'normal', ...config },
    application: application ?? sampleApplication(tokens, log),
    logger: log,
  });
  return Object.assign(server, {
    dir,
    tokens,
    queuedFor: async (clientId: string) => (await server.broker.storage.queuedFor(clientId)).length,
    destroy: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A GET on 127.0.0.1 with the headers given (fetch cannot set Host). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

const localHost = (broker: TestBroker) => ({ Host: `localhost:${broker.ports.webSocket}` });

/** Waits until the broker no longer lists `clientId` among its sessions (its session end was processed). */
async function sessionGone(broker: TestBroker, clientId: string): Promise<void> {
  await waitUntil(async () => {
    const { status, text } = await get(broker.ports.webSocket, '/api/clients', localHost(broker));
    if (status !== 200) throw new Error(`/api/clients answered ${status}`);
    return !(JSON.parse(text).clients as Array<{ clientId: string }>).some((client) => client.clientId === clientId);
  }, 5000, `the session of ${clientId} to end`);
}

/** Everything received up to now is in: packets are handled in order, so the hbAck comes after them. */
async function barrier(client: RawClient): Promise<void> {
  await client.request({ hb: {} }, 'hbAck');
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => { resolve = done; });
  return { promise, resolve };
}

const FORGED = '\n2026-01-01T00:00:00.000Z ERR storage corrupted';
const CLEAR_SCREEN = '\u001b[2J';

describe('log injection (11.10): client text is quoted and escaped, no line is forged', () => {
  it('weird client ids, client names, channels and ids never start a line or put a control character in the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jmqt-log-'));
    const path = join(dir, 'broker.log');
    const log = createLogger('DBG', path);
    // MAX_QUEUED_PER_CLIENT = 1: a full queue is where the broker writes a channel
    // name and a subscriber's client id into a line (the limit-hit line), so the
    // second QoS 1 pub below makes it write both.
    const broker = await startLoggedBroker({ LOG_MODE: 'DBG', MAX_QUEUED_PER_CLIENT: 1 }, log);
    const weirdId = `mallory${FORGED}${CLEAR_SCREEN}`;
    const weirdChannel = `news${FORGED}${CLEAR_SCREEN}`;
    try {
      // conn refused with a weird `cl`.
      const stranger = await RawClient.open('tcp', broker.ports.socket);
      assert.deepEqual(await stranger.request({ conn: { at: 'not-a-token', cl: weirdId } }, 'connAck'), { st: 6 });
      // A malformed packet whose type is client text.
      stranger.sendRaw(JSON.stringify({ [`x${FORGED}`]: {} }));
      // hb is ignored before a session; an auth is answered, after the packet before it.
      assert.equal((await stranger.request({ auth: { dt: {} } }, 'authAck'))['st'], 10);
      stranger.close();

      // auth with a weird client_name, then a session under that id, over TCP and WebSocket.
      const subscriber = await connectClient(broker, weirdId, 'ws');
      assert.deepEqual(await subscriber.request({ sub: { cn: weirdChannel, pr: 1 } }, 'subAck'), { st: 1, cn: weirdChannel });
      const publisher = await connectClient(broker, `pub${CLEAR_SCREEN}`);
      assert.deepEqual(await publisher.request({ pub: { cn: weirdChannel, dt: 1, q: 1, id: `a${FORGED}` } }, 'pubAck'), { st: 1, id: `a${FORGED}` });
      await subscriber.seen('push', { cn: weirdChannel });
      // The queue of one is full (the push is not acknowledged): refused, and the limit line names channel and client.
      assert.deepEqual(await publisher.request({ pub: { cn: weirdChannel, dt: 2, q: 1, id: 'b' } }, 'pubAck'), { st: 0, id: 'b' });
      // A pushAck with a status other than OK is logged (DBG) with its id.
      subscriber.send({ pushAck: { id: `z${FORGED}${CLEAR_SCREEN}`, st: 5 } });
      await barrier(subscriber);
      subscriber.send({ disconn: {} });
      await subscriber.waitClosed();
      publisher.close();
      await publisher.waitClosed();
    } finally {
      await broker.destroy();
      await log.close();
    }
    const text = readFileSync(path, 'utf8');
    rmSync(dir, { recursive: true, force: true });

    const lines = text.split('\n');
    assert.equal(lines.pop(), '', 'the log ends with a newline');
    for (const line of lines) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\S+ (DBG|INF|WRN|ERR) /, `a line the logger did not start: ${JSON.stringify(line)}`);
      assert.ok(!line.startsWith('2026-01-01T00:00:00.000Z'), `forged line: ${JSON.stringify(line)}`);
      for (const char of line) assert.ok(char.charCodeAt(0) >= 0x20, `control character ${JSON.stringify(char)} in ${JSON.stringify(line)}`);
    }
    // The weird text is there, quoted, with its controls written as escapes.
    const escaped = (value: string) => value.replace(/\n/g, '\\n').replace(/\u001b/g, '\\u001b');
    const shown = (value: string) => `"${escaped(value)}"`;
    const has = (pattern: string, what: string) => assert.ok(lines.some((line) => line.includes(pattern)), `no line with ${what}: ${pattern}\n${text}`);
    has(`conn refused (6) for client ${shown(weirdId)}`, 'the refused conn');
    has(`session started: client ${shown(weirdId)} from 127.0.0.1 over WEB_SOCKET`, 'the session start');
    has(`session ended (client sent disconn): client ${shown(weirdId)}`, 'the session end');
    has(`session started: client ${shown(`pub${CLEAR_SCREEN}`)}`, 'the publisher');
    has(`publish to ${shown(weirdChannel)} refused: queue of ${shown(weirdId)} is full`, 'the limit hit with channel and client id');
    has(`pushAck ${shown(`z${FORGED}${CLEAR_SCREEN}`)} with status 5`, 'the pushAck id');
    has(escaped(`x${FORGED}`), 'the malformed packet type');
    assert.ok(!text.includes('\u001b'), 'no raw ESC in the log');
  });
});

describe('QoS 1 queue flood (11.4)', () => {
  // MAX_QUEUED_PER_CLIENT = 5 instead of 10,000: the policy at the limit is the same
  // whatever the limit, and filling a queue of 10,000 would cost the test 10,000 round trips.
  const LIMIT = 5;

  /** The victim had a session (so #victim exists) and a persistent subscription, and is offline now. */
  async function floodSetup(broker: TestBroker): Promise<{ legit: number[]; attack: Array<{ dt: string; st: number }> }> {
    const victim = await connectClient(broker, 'victim');
    await victim.request({ sub: { cn: 'victim-inbox', pr: 1 } }, 'subAck', { st: 1 });
    victim.send({ disconn: {} });
    await victim.waitClosed();
    await sessionGone(broker, 'victim');

    const friend = await connectClient(broker, 'friend');
    const legit: number[] = [];
    for (const n of [1, 2]) {
      // The victim is subscribed to the channel, offline: stored, acknowledged with 1.
      assert.deepEqual(await friend.request({ pub: { cn: 'victim-inbox', dt: `legit-${n}`, q: 1, id: `l${n}` } }, 'pubAck'), { st: 1, id: `l${n}` });
      legit.push(n);
    }
    friend.close();
    const attacker = await connectClient(broker, 'attacker');
    const attack: Array<{ dt: string; st: number }> = [];
    for (let n = 1; n <= LIMIT + 1; n++) {
      const ack = await attacker.request({ pub: { cn: '#victim', dt: `attack-${n}`, q: 1, id: `a${n}` } }, 'pubAck', { id: `a${n}` });
      attack.push({ dt: `attack-${n}`, st: ack['st'] as number });
    }
    attacker.close();
    return { legit, attack };
  }

  /** Reconnects the victim and answers the `dt` of every QoS 1 push it gets, in order. */
  async function victimReceives(broker: TestBroker): Promise<{ client: RawClient; got: string[] }> {
    const client = await connectClient(broker, 'victim');
    await barrier(client);
    const got = client.all('push').filter((push) => push['q'] === 1).map((push) => push['dt'] as string);
    return { client, got };
  }

  it('reject-publisher (the default): pubs past the limit get 0; the victim gets every acknowledged message, the older legit ones too', async () => {
    const broker = await startTestBroker({ MAX_QUEUED_PER_CLIENT: LIMIT });
    try {
      assert.equal(broker.config.QUEUE_POLICY, 'reject-publisher');
      const { attack } = await floodSetup(broker);
      // 2 legit copies + 3 attack copies fill the queue of 5. A pub to an offline `#victim`
      // is answered 8 (protocol 7.8) and stored: acknowledged. The rest is refused with 0.
      assert.deepEqual(attack.map((a) => a.st), [8, 8, 8, 0, 0, 0]);
      assert.equal(await broker.queuedFor('victim'), LIMIT);
      const { client, got } = await victimReceives(broker);
      assert.deepEqual(got, ['legit-1', 'legit-2', 'attack-1', 'attack-2', 'attack-3']);
      const stats = JSON.parse((await get(broker.ports.webSocket, '/api/stats', localHost(broker))).text);
      assert.equal(stats.counters.limitHits.MAX_QUEUED_PER_CLIENT, 3);
      assert.equal(stats.counters.evictedCopies, 0);
      client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('drop-oldest: every pub is accepted, the oldest copies go, counted per client (/api/clients evictedQos1) and in /metrics', async () => {
    const broker = await startTestBroker({ MAX_QUEUED_PER_CLIENT: LIMIT, QUEUE_POLICY: 'drop-oldest' });
    try {
      const { attack } = await floodSetup(broker);
      assert.deepEqual(attack.map((a) => a.st), [8, 8, 8, 8, 8, 8]);
      assert.equal(await broker.queuedFor('victim'), LIMIT);
      const { client, got } = await victimReceives(broker);
      // 2 + 6 copies, 5 kept: the 3 oldest (both legit ones and attack-1) were evicted.
      assert.deepEqual(got, ['attack-2', 'attack-3', 'attack-4', 'attack-5', 'attack-6']);
      const clients = JSON.parse((await get(broker.ports.webSocket, '/api/clients', localHost(broker))).text).clients as Array<{ clientId: string; evictedQos1: number }>;
      assert.equal(clients.find((c) => c.clientId === 'victim')?.evictedQos1, 3);
      const metrics = (await get(broker.ports.webSocket, '/metrics', localHost(broker))).text;
      assert.match(metrics, /^jmqt_qos1_evicted_total 3$/m);
      client.close();
    } finally {
      await broker.destroy();
    }
  });
});

describe('admin API without ADMIN_TOKEN (11: DNS rebinding) and /api/health', () => {
  it('/api/clients: Host attacker.example → 403; Host localhost:PORT or 127.0.0.1:PORT → 200', async () => {
    const broker = await startTestBroker();
    const port = broker.ports.webSocket;
    try {
      for (const path of ['/api/clients', '/api/stats', '/metrics']) {
        const refused = await get(port, path, { Host: 'attacker.example' });
        assert.equal(refused.status, 403, path);
        assert.match(JSON.parse(refused.text).error, /Host/);
        assert.equal((await get(port, path, { Host: `attacker.example:${port}` })).status, 403, path);
        assert.equal((await get(port, path, { Host: `localhost:${port}` })).status, 200, path);
        assert.equal((await get(port, path, { Host: `127.0.0.1:${port}` })).status, 200, path);
      }
      // Health is for load balancers: any Host.
      assert.equal((await get(port, '/api/health', { Host: 'attacker.example' })).status, 200);
    } finally {
      await broker.destroy();
    }
  });

  it('/api/health says status, node, storage, bus and uptimeSeconds only; node names neither the host nor the pid', async () => {
    const first = await startTestBroker();
    const second = await startTestBroker();
    try {
      const bodies = await Promise.all([first, second].map(async (broker) => {
        const answer = await get(broker.ports.webSocket, '/api/health');
        assert.equal(answer.status, 200);
        return JSON.parse(answer.text) as Record<string, unknown>;
      }));
      for (const body of bodies) {
        assert.deepEqual(Object.keys(body).sort(), ['bus', 'node', 'status', 'storage', 'uptimeSeconds']);
        assert.equal(body['status'], 'ok');
        assert.equal(body['storage'], 'ok');
        const node = String(body['node']);
        assert.ok(!node.toLowerCase().includes(hostname().toLowerCase()), `node ${node} names the host ${hostname()}`);
        assert.doesNotMatch(node, new RegExp(`(^|\\D)${process.pid}(\\D|$)`), `node ${node} names the pid ${process.pid}`);
        assert.match(node, /^jmqt-[0-9a-f]{8}$/);
      }
      assert.notEqual(bodies[0]!['node'], bodies[1]!['node'], 'node ids are random');
    } finally {
      await first.destroy();
      await second.destroy();
    }
  });
});

describe('hook answers after close (11.9)', () => {
  /** The sample application with validateSubscription / validatePublish held on some channels until the test lets them go. */
  function slowApplication(held: { sub?: Map<string, Promise<number>>; pub?: Map<string, Promise<number>> }, closed: (peer: Peer) => void): Partial<Application> {
    const sample = sampleApplication(new TokenSigner(TEST_SECRET, 3600), createLogger('ERR', ''));
    return {
      ...sample,
      validateSubscription: (channel, persistent, peer) => held.sub?.get(channel) ?? sample.validateSubscription!(channel, persistent, peer),
      validatePublish: (channel, data, qos, peer) => held.pub?.get(channel) ?? sample.validatePublish!(channel, data, qos, peer),
      onConnectionClose: (peer) => {
        sample.onConnectionClose!(peer);
        closed(peer);
      },
    };
  }

  it('a sub whose validator answers OK after the connection closed subscribes nothing, and a later QoS 1 pub stores nothing for that client', async () => {
    const verdict = deferred<number>();
    const ended = deferred<void>();
    const application = slowApplication({ sub: new Map([['late-sub', verdict.promise]]) }, (peer) => { if (peer.clientId === 'slowpoke') ended.resolve(); });
    const broker = await startTestBroker({}, application);
    try {
      const client = await connectClient(broker, 'slowpoke');
      client.send({ sub: { cn: 'late-sub', pr: 1 } });
      client.close();
      await ended.promise;
      const late = broker.broker.counters.lateHookAnswers;
      verdict.resolve(Status.OK);
      // Either the broker counts the late answer or (the bug) it subscribes: wait for one of them.
      await waitUntil(async () => broker.broker.counters.lateHookAnswers > late
        || (await broker.broker.storage.subscriptionsOf('slowpoke')).some((record) => record.channel === 'late-sub'), 5000, 'the late answer to be handled');

      assert.deepEqual((await broker.broker.storage.subscriptionsOf('slowpoke')).map((record) => record.channel).sort(), ['#slowpoke', 'update']);
      const again = await connectClient(broker, 'slowpoke');
      const listed = await again.request({ pub: { cn: '$mySubscriptions', dt: {}, id: 'ls' } }, 'pubAck', { id: 'ls' });
      assert.deepEqual(listed['dt'], { channels: { '#slowpoke': 'persistent', update: 'persistent' } });
      again.send({ disconn: {} });
      await again.waitClosed();
      await sessionGone(broker, 'slowpoke');

      const publisher = await connectClient(broker, 'pub-late-sub');
      assert.deepEqual(await publisher.request({ pub: { cn: 'late-sub', dt: 1, q: 1, id: '1' } }, 'pubAck'), { st: 1, id: '1' });
      assert.equal(await broker.queuedFor('slowpoke'), 0);
      publisher.close();
    } finally {
      await broker.destroy();
    }
  });

  it('a pub whose validator answers OK after the connection closed delivers, stores and retains nothing', async () => {
    const verdict = deferred<number>();
    const ended = deferred<void>();
    const application = slowApplication({ pub: new Map([['late-pub', verdict.promise]]) }, (peer) => { if (peer.clientId === 'late-publisher') ended.resolve(); });
    const broker = await startTestBroker({}, application);
    try {
      const online = await connectClient(broker, 'online-sub');
      await online.request({ sub: { cn: 'late-pub', pr: 1 } }, 'subAck', { st: 1 });
      const offline = await connectClient(broker, 'offline-sub');
      await offline.request({ sub: { cn: 'late-pub', pr: 1 } }, 'subAck', { st: 1 });
      offline.send({ disconn: {} });
      await offline.waitClosed();
      await sessionGone(broker, 'offline-sub');

      const publisher = await connectClient(broker, 'late-publisher');
      publisher.send({ pub: { cn: 'late-pub', dt: 'q1', q: 1, rt: 1, id: 'p1' } });
      publisher.close();
      await ended.promise;
      const late = broker.broker.counters.lateHookAnswers;
      verdict.resolve(Status.OK);
      await waitUntil(() => broker.broker.counters.lateHookAnswers > late || online.all('push').some((push) => push['cn'] === 'late-pub'),
        5000, 'the late answer to be handled');
      await barrier(online);
      assert.deepEqual(online.all('push').filter((push) => push['cn'] === 'late-pub'), []);
      assert.equal(await broker.queuedFor('online-sub'), 0);
      assert.equal(await broker.queuedFor('offline-sub'), 0);
      assert.deepEqual(await broker.broker.storage.allRetained(), []);
      online.close();
    } finally {
      await broker.destroy();
    }
  });
});

describe('$mySubscriptions (6.5) with names of Object.prototype', () => {
  it('lists __proto__, constructor and toString', async () => {
    const broker = await startTestBroker();
    try {
      const client = await connectClient(broker, 'proto-names');
      for (const [cn, pr] of [['__proto__', 1], ['constructor', 0], ['toString', 1], ['hasOwnProperty', 0]] as const) {
        assert.deepEqual(await client.request({ sub: { cn, pr } }, 'subAck', { cn }), { st: 1, cn });
      }
      const ack = await client.request({ pub: { cn: '$mySubscriptions', dt: {}, id: 'm' } }, 'pubAck', { id: 'm' });
      const channels = (ack['dt'] as { channels: Record<string, string> }).channels;
      // JSON.parse makes `__proto__` an own property, so a listed one is seen here.
      assert.ok(Object.hasOwn(channels, '__proto__'), `__proto__ missing: ${JSON.stringify(ack)}`);
      assert.deepEqual(Object.entries(channels).sort(), [
        ['#proto-names', 'persistent'], ['__proto__', 'persistent'], ['constructor', 'temp'], ['hasOwnProperty', 'temp'], ['toString', 'persistent'], ['update', 'persistent'],
      ]);
      client.close();
    } finally {
      await broker.destroy();
    }
  });
});

describe('the sample application (9)', () => {
  it('npm run server warns at start that any client may be any client id and that it is a demo', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jmqt-main-'));
    const broker = await spawnBroker({
      JMQT_SOCKET_PORT: String(await freePort()),
      JMQT_WEBSOCKET_PORT: String(await freePort()),
      JMQT_BIND_ADDRESS: '127.0.0.1',
      JMQT_SQLITE_PATH: join(dir, 'jmqt.db'),
      JMQT_SQLITE_SYNC: 'normal',
      JMQT_LOG_MODE: 'INF',
    });
    try {
      const line = await waitUntil(() => broker.output().split('\n').find((l) => / WRN .*sample application/.test(l)), 10_000,
        () => `the sample application warning in ${broker.output()}`);
      assert.match(line, /^\d{4}-\d\d-\d\dT\S+ WRN /);
      assert.match(line, /any client id/);
      assert.match(line, /\bdemo\b/);
    } finally {
      broker.child.kill('SIGTERM');
      await broker.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
