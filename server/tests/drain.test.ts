/**
 * Graceful drain of a single node (server/drain.ts), on `server/main.ts` run as
 * a real process: POST /api/drain (admin) or SIGUSR2 makes /api/health answer
 * 503 at once, refuses new connections and sessions, closes the sessions spread
 * evenly over DRAIN_SECONDS (WebSocket close 4002, on which the SDK reconnects
 * at once; over TCP it keeps its first backoff delay), writes storage and exits
 * 0; nothing the broker acknowledged is lost (a restart on the same database
 * delivers what the drain cut off). `npm run server` exits 0 after a drain too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { httpRequest } from '../../deploy/launch';
import { childEnv } from '../../tools/process';
import { accepts, waitUntil } from '../../tools/wait';
import { DRAINING_CLOSE_CODE, DRAINING_REASON } from '../../shared/keys';
import { Status } from '../../shared/status';
import { JmqtClient } from '../../shared/client/jmqt-client';
import { NodeSocketTransport } from '../../shared/client/node/socket-transport';
import { NodeWsTransport } from '../../shared/client/node/ws-transport';
import type { ClientState } from '../../shared/client/types';
import { freePort, spawnBroker, type BrokerProcess } from '../testing/process';

const TOKEN = 'drain-test-token';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function http(port: number, method: string, path: string, token?: string): Promise<{ status: number; body: any }> {
  return httpRequest(port, method, path, { token });
}

/** A raw WebSocket session (auth + conn by hand), to see the exact close code and reason. */
async function rawWsSession(port: number, name: string): Promise<{ closed: Promise<{ code: number; reason: string; at: number }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() })));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const next = () => new Promise<any>((resolve, reject) => {
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`${name}: no answer within 5 s`)); }, 5000);
    ws.once('message', (data) => { clearTimeout(timer); resolve(JSON.parse(data.toString())); });
  });
  let answer = next();
  ws.send(JSON.stringify({ auth: { dt: { client_name: name } } }));
  const { authAck } = await answer;
  answer = next();
  ws.send(JSON.stringify({ conn: { at: authAck.at, cl: authAck.cl } }));
  assert.equal((await answer).connAck.st, 1);
  return { closed };
}

/** An SDK client whose disconnects and states are recorded with their times. */
class Recorded {
  readonly client: JmqtClient;
  readonly disconnects: Array<{ reason: string; willReconnect: boolean; at: number }> = [];
  readonly states: Array<{ state: ClientState; at: number }> = [];
  constructor(transport: NodeSocketTransport | NodeWsTransport, reconnect: boolean) {
    this.client = new JmqtClient(transport, { requestTimeoutMs: 3000, reconnect: reconnect ? { initialDelayMs: 1000 } : false });
    this.client.on('disconnect', (event) => this.disconnects.push({ ...event, at: Date.now() }));
    this.client.on('state', ({ state }) => this.states.push({ state, at: Date.now() }));
  }
  async login(name: string): Promise<this> {
    const auth = await this.client.auth({ client_name: name });
    assert.equal(auth.status, Status.OK);
    assert.equal((await this.client.conn(auth.clientId!, auth.token!)).status, Status.OK);
    return this;
  }
  /** When the client began its first reconnect attempt after the first disconnect. */
  get retryDelayMs(): number {
    const dropped = this.disconnects[0]!.at;
    const retry = this.states.find((entry) => entry.state === 'connecting' && entry.at >= dropped);
    return retry ? retry.at - dropped : Infinity;
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(false); });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function upgradeRefusal(port: number): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.on('unexpected-response', (_request, response) => { resolve(response.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => resolve(0));
  });
}

/** Closes by third of the window, as a text histogram. */
function histogram(offsets: number[], windowMs: number, buckets: number): number[] {
  const counts = Array<number>(buckets).fill(0);
  for (const offset of offsets) counts[Math.min(buckets - 1, Math.max(0, Math.floor(offset / (windowMs / buckets))))]!++;
  return counts;
}

async function brokerEnv(dir: string, extra: Record<string, string>): Promise<Record<string, string>> {
  return {
    JMQT_SOCKET_PORT: String(await freePort()), JMQT_WEBSOCKET_PORT: String(await freePort()), JMQT_BIND_ADDRESS: '127.0.0.1',
    JMQT_SQLITE_PATH: join(dir, 'jmqt.db'), JMQT_LOG_MODE: 'INF', ...extra,
  };
}

describe('graceful drain of one node', { timeout: 90_000 }, () => {
  it('POST /api/drain: 503 at once, sessions closed over DRAIN_SECONDS with 4002, nothing acknowledged lost, exit 0', async () => {
    const DRAIN_SECONDS = 3;
    const dir = mkdtempSync(join(tmpdir(), 'jmqt-drain-'));
    const env = await brokerEnv(dir, { JMQT_DRAIN_SECONDS: String(DRAIN_SECONDS), JMQT_ADMIN_TOKEN: TOKEN });
    const socketPort = Number(env['JMQT_SOCKET_PORT']);
    const wsPort = Number(env['JMQT_WEBSOCKET_PORT']);
    let broker: BrokerProcess | null = await spawnBroker(env);
    const clients: JmqtClient[] = [];
    try {
      // Sessions: 16 raw WebSocket, 8 SDK over WebSocket and 8 over TCP (reconnecting), a subscriber and a publisher.
      const raw = await Promise.all(Array.from({ length: 16 }, (_, i) => rawWsSession(wsPort, `raw-${i}`)));
      const sdkWs = await Promise.all(Array.from({ length: 8 }, (_, i) => new Recorded(new NodeWsTransport(`ws://127.0.0.1:${wsPort}/`), true).login(`sdk-ws-${i}`)));
      const sdkTcp = await Promise.all(Array.from({ length: 8 }, (_, i) => new Recorded(new NodeSocketTransport({ host: '127.0.0.1', port: socketPort }), true).login(`sdk-tcp-${i}`)));
      clients.push(...[...sdkWs, ...sdkTcp].map((recorded) => recorded.client));

      const received = new Set<number>();
      const subscriber = await new Recorded(new NodeWsTransport(`ws://127.0.0.1:${wsPort}/`), false).login('drain-sub');
      subscriber.client.on('push', ({ data }) => received.add((data as { seq: number }).seq));
      assert.equal((await subscriber.client.sub('drain/q', true)).status, Status.OK);
      const publisher = await new Recorded(new NodeSocketTransport({ host: '127.0.0.1', port: socketPort }), false).login('drain-pub');
      clients.push(subscriber.client, publisher.client);
      const acknowledged: number[] = [];
      let seq = 0;
      let publishing = true;
      const publishes = (async () => {
        while (publishing) {
          const n = ++seq;
          const answer = await publisher.client.pub('drain/q', { seq: n }, { qos: 1, id: `p-${n}` }).catch(() => null);
          if (answer?.status === Status.OK) acknowledged.push(n);
          if (!answer) break; // the drain closed the publisher's session
          await sleep(5);
        }
      })();
      await sleep(300);
      const sessions = 16 + 8 + 8 + 2;

      assert.equal((await http(wsPort, 'POST', '/api/drain')).status, 401, 'the admin guard applies');
      const started = Date.now();
      const drain = await http(wsPort, 'POST', '/api/drain', TOKEN);
      assert.equal(drain.status, 202);
      assert.equal(drain.body.state, 'draining');
      assert.equal(drain.body.sessions, sessions);
      assert.equal(drain.body.drainSeconds, DRAIN_SECONDS);
      assert.equal(drain.body.batches, 30, 'a batch every 100 ms at most');
      assert.equal(drain.body.intervalMs, 100);
      assert.equal(drain.body.batchSize, 2);
      const health = await http(wsPort, 'GET', '/api/health');
      assert.ok(Date.now() - started < 1000);
      assert.equal(health.status, 503, 'health turns 503 at once');
      assert.equal(health.body.status, 'draining');
      const again = await http(wsPort, 'POST', '/api/drain', TOKEN);
      assert.equal(again.status, 202, 'a second call is harmless');
      assert.equal(again.body.startedAt, drain.body.startedAt);
      assert.equal((await http(wsPort, 'GET', '/api/drain', TOKEN)).body.startedAt, drain.body.startedAt);
      assert.ok(await refused(socketPort), 'the TCP listener no longer accepts');
      assert.equal(await upgradeRefusal(wsPort), 503, 'WebSocket upgrades are refused with 503');

      let timer: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([broker.exited, new Promise((resolve) => { timer = setTimeout(resolve, (DRAIN_SECONDS + 15) * 1000, 'timeout'); })]);
      clearTimeout(timer);
      const exitedAt = Date.now();
      const output = broker.output();
      broker = null;
      assert.equal(code, 0, `exit 0 after the drain:\n${output.slice(-3000)}`);
      assert.match(output, /drain done: storage written and closed/);
      publishing = false;
      await publishes;

      // Every session was closed within the window, spread evenly over it.
      const rawCloses = await Promise.all(raw.map((session) => session.closed));
      for (const close of rawCloses) assert.deepEqual([close.code, close.reason], [DRAINING_CLOSE_CODE, DRAINING_REASON]);
      const sdk = [...sdkWs, ...sdkTcp, subscriber, publisher];
      for (const recorded of sdk) assert.ok(recorded.disconnects.length >= 1, 'every SDK client was disconnected');
      const offsets = [...rawCloses.map((close) => close.at), ...sdk.map((recorded) => recorded.disconnects[0]!.at)].map((at) => at - started).sort((a, b) => a - b);
      assert.equal(offsets.length, sessions);
      const windowMs = DRAIN_SECONDS * 1000;
      const thirds = histogram(offsets, windowMs, 3);
      const gaps = offsets.slice(1).map((offset, i) => offset - offsets[i]!);
      console.log(`drain: closes per second of the ${DRAIN_SECONDS} s window ${JSON.stringify(thirds)}; first ${offsets[0]} ms, last ${offsets.at(-1)} ms, largest gap ${Math.max(...gaps)} ms; exit ${exitedAt - started} ms after the request`);
      assert.ok(offsets[0]! >= 0 && offsets.at(-1)! <= windowMs + 500, `closes within the window: ${offsets.join(', ')}`);
      for (const count of thirds) assert.ok(count >= sessions * 0.2 && count <= sessions * 0.47, `evenly spread: ${JSON.stringify(thirds)}`);
      assert.ok(Math.max(...gaps) < 600, `no long pause between batches: ${gaps.join(', ')}`);

      // The SDK: 4002 over WebSocket means reconnect at once; TCP has no close code and keeps its first backoff delay.
      for (const recorded of sdkWs) {
        assert.match(recorded.disconnects[0]!.reason, /^node draining, reconnect now \(code 4002/);
        assert.equal(recorded.disconnects[0]!.willReconnect, true);
        assert.ok(recorded.retryDelayMs < 100, `WebSocket client retried after ${recorded.retryDelayMs} ms`);
      }
      for (const recorded of sdkTcp) {
        assert.equal(recorded.disconnects[0]!.willReconnect, true);
        assert.ok(recorded.retryDelayMs >= 450, `TCP client retried after ${recorded.retryDelayMs} ms`);
      }
      for (const client of clients) await client.disconnect(false);

      // Nothing acknowledged is lost: what the drain cut off waits in storage for the subscriber.
      assert.ok(acknowledged.length > 20, `the publisher got ${acknowledged.length} pubAcks`);
      broker = await spawnBroker({ ...env, JMQT_DRAIN_SECONDS: '30' });
      const back = await new Recorded(new NodeWsTransport(`ws://127.0.0.1:${wsPort}/`), false).login('drain-sub');
      back.client.on('push', ({ data }) => received.add((data as { seq: number }).seq));
      const deadline = Date.now() + 10_000;
      while (acknowledged.some((n) => !received.has(n)) && Date.now() < deadline) await sleep(50);
      await back.client.disconnect();
      const lost = acknowledged.filter((n) => !received.has(n));
      assert.deepEqual(lost, [], `acknowledged but never delivered (${acknowledged.length} acknowledged)`);
    } finally {
      for (const client of clients) await client.disconnect(false).catch(() => undefined);
      if (broker) {
        broker.child.kill('SIGTERM');
        await broker.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGUSR2 drains as well and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jmqt-drain-'));
    const env = await brokerEnv(dir, { JMQT_DRAIN_SECONDS: '1' });
    const broker = await spawnBroker(env);
    try {
      const session = await rawWsSession(Number(env['JMQT_WEBSOCKET_PORT']), 'usr2');
      const started = Date.now();
      broker.child.kill('SIGUSR2');
      const close = await session.closed;
      assert.equal(close.code, DRAINING_CLOSE_CODE);
      assert.ok(close.at - started <= 1500, `closed ${close.at - started} ms after SIGUSR2`);
      assert.equal(await broker.exited, 0);
      assert.match(broker.output(), /drain requested by SIGUSR2/);
    } finally {
      broker.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`npm run server` exits 0 after POST /api/drain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jmqt-drain-'));
    const env = await brokerEnv(dir, { JMQT_DRAIN_SECONDS: '1' });
    // Its own process group: npm, sh, tsx and the broker are all ended if the test fails.
    const server = spawn('npm', ['run', '-s', 'server'], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    server.stdout.on('data', (chunk) => { output += chunk; });
    server.stderr.on('data', (chunk) => { output += chunk; });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      const wsPort = Number(env['JMQT_WEBSOCKET_PORT']);
      for (const port of [Number(env['JMQT_SOCKET_PORT']), wsPort]) {
        await waitUntil(() => accepts(port), 30_000, () => `npm run server accepting on ${port}: ${output}`, 100);
      }
      const session = await rawWsSession(wsPort, 'npm');
      // Loopback without ADMIN_TOKEN: the admin guard lets it through.
      assert.equal((await http(wsPort, 'POST', '/api/drain')).status, 202);
      assert.equal((await session.closed).code, DRAINING_CLOSE_CODE);
      assert.equal(await exited, 0, output);
    } finally {
      try { process.kill(-server.pid!, 'SIGKILL'); } catch { /* gone */ }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
