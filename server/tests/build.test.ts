// The production build: `npm run build:node` compiles to dist/node, and
// what it made runs as one plain `node` process: protocol scenarios of the
// pubsub, session, transports, persistence and security suites against the
// compiled broker (TCP, WebSocket, TLS, TLS WebSocket; HTTP API and /metrics,
// loaded at the first request; JWT auth, whose jose is an ES module that the
// CommonJS build require()s), LOG_FORMAT = json, the sample server.conf, a
// QoS 1 message kept across a SIGTERM restart, the compiled `jmqt`; and
// `npm start`: exactly one node process, which SIGTERM reaches.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { makeCertificate } from '../testing/certificate';
import { runCli } from '../testing/cli';
import { compiledCli, compiledMain, root, startCompiledBroker, type CompiledBroker } from '../testing/compiled';
import { RawClient, type Transport } from '../testing/harness';
import { freePort } from '../testing/process';

const dir = mkdtempSync(join(tmpdir(), 'jmqt-build-'));
const { cert, key } = makeCertificate(dir);

/** Processes whose parent is `pid`, as [pid, args], from ps. */
function psChildren(pid: number): Array<[number, string]> {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when nothing matches
  }
  return out.trim().split('\n').filter(Boolean).map((line) => {
    const [, id, args] = /^\s*(\d+)\s+(.*)$/.exec(line)!;
    return [Number(id), args!];
  });
}

async function brokerEnv(): Promise<Record<string, string>> {
  return {
    JMQT_SOCKET_PORT: String(await freePort()), JMQT_WEBSOCKET_PORT: String(await freePort()),
    JMQT_SSL_SOCKET_PORT: String(await freePort()), JMQT_SSL_WEBSOCKET_PORT: String(await freePort()),
    JMQT_ENABLE_SSL: '1', JMQT_SSL_CERT_PATH: cert, JMQT_SSL_KEY_PATH: key,
    JMQT_BIND_ADDRESS: '127.0.0.1', JMQT_SQLITE_PATH: join(dir, 'jmqt.db'), JMQT_SQLITE_SYNC: 'normal',
  };
}

const portOf = (env: Record<string, string>, transport: Transport) =>
  Number(env[{ tcp: 'JMQT_SOCKET_PORT', ws: 'JMQT_WEBSOCKET_PORT', tls: 'JMQT_SSL_SOCKET_PORT', wss: 'JMQT_SSL_WEBSOCKET_PORT' }[transport]]);

/** auth + conn with the sample application. */
async function session(env: Record<string, string>, name: string, transport: Transport = 'tcp'): Promise<RawClient> {
  const client = await RawClient.open(transport, portOf(env, transport));
  const authAck = await client.request({ auth: { dt: { client_name: name } } }, 'authAck');
  assert.equal(authAck['st'], 1, JSON.stringify(authAck));
  assert.deepEqual(await client.request({ conn: { at: authAck['at'], cl: name } }, 'connAck'), { st: 1, ts: 15 });
  return client;
}

before(() => {
  execFileSync(process.execPath, ['scripts/build-node.mjs'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}, { timeout: 180_000 });

after(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run build:node', () => {
  it('compiles the server, the SDK and the command line to CommonJS in dist/node', () => {
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'dist/node/package.json'), 'utf8')), { type: 'commonjs' });
    for (const file of [compiledMain, compiledCli, 'dist/node/shared/client/index.js', 'dist/node/shared/client/node/index.js', 'dist/node/cli/passwd.js']) {
      assert.ok(existsSync(join(root, file)), file);
    }
    assert.ok(!existsSync(join(root, 'dist/node/server/tests')), 'no tests in the build');
    assert.ok(!existsSync(join(root, 'dist/node/server/testing')), 'no test helpers in the build');
    assert.match(execFileSync('git', ['check-ignore', 'dist/node/server/main.js'], { cwd: root, encoding: 'utf8' }), /dist\/node/);
  });
});

describe('the compiled broker (node dist/node/server/main.js)', () => {
  let env: Record<string, string>;
  let broker: CompiledBroker;

  before(async () => {
    env = { ...(await brokerEnv()), JMQT_LOG_FORMAT: 'json' };
    broker = await startCompiledBroker(env, ['--config', 'server.conf']);
  });

  after(async () => {
    if (broker.child.exitCode === null) await broker.stop();
  });

  it('is one plain node process, no tsx, no child; idle RSS and start time', { timeout: 30_000 }, async (t) => {
    const cmdline = readFileSync(`/proc/${broker.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    assert.deepEqual(cmdline, [process.execPath, compiledMain, '--config', 'server.conf']);
    assert.deepEqual(psChildren(broker.child.pid!), []);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rss = broker.rssMb();
    t.diagnostic(`compiled broker: started in ${broker.startMs.toFixed(0)} ms, idle RSS ${rss.toFixed(1)} MB`);
    // The aim is under 60 MB (mysql2, ioredis, express, prom-client and jose are loaded when needed); a loose bound catches regressions.
    assert.ok(rss < 80, `idle RSS ${rss.toFixed(1)} MB`);
  });

  it('LOG_FORMAT = json: every line it wrote is a JSON object with time, level and message', () => {
    const lines = broker.output().trimEnd().split('\n');
    assert.ok(lines.length >= 2);
    for (const line of lines) {
      const entry = JSON.parse(line);
      assert.match(entry.time, /^\d{4}-\d\d-\d\dT/);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(entry.level), line);
      assert.equal(typeof entry.message, 'string');
    }
    assert.ok(lines.some((line) => JSON.parse(line).message.startsWith('JMQT broker listening')));
  });

  it('pubsub: QoS 0 and 1, no echo to the publisher, pubAck echoes the id, pushAck deletes the copy; retained on sub', { timeout: 30_000 }, async () => {
    const sub = await session(env, 'b-sub');
    const pub = await session(env, 'b-pub');
    await sub.request({ sub: { cn: 'news', pr: 1 } }, 'subAck', { st: 1 });
    await pub.request({ sub: { cn: 'news', pr: 0 } }, 'subAck', { st: 1 });
    const push0 = sub.next('push', { cn: 'news' });
    pub.send({ pub: { cn: 'news', dt: { text: 'héllo ✓' }, q: 0 } });
    assert.deepEqual(await push0, { cn: 'news', dt: { text: 'héllo ✓' }, cl: 'b-pub' });
    const push1 = sub.next('push', { cn: 'news', dt: [1, 2] });
    assert.deepEqual(await pub.request({ pub: { cn: 'news', dt: [1, 2], q: 1, id: 77, rt: 1 } }, 'pubAck'), { st: 1, id: 77 });
    const pushed = await push1;
    assert.equal(pushed['q'], 1);
    assert.equal(typeof pushed['id'], 'string');
    sub.send({ pushAck: { id: pushed['id'] } });
    await pub.barrier();
    assert.equal(pub.all('push').length, 0);
    const late = await session(env, 'b-late', 'ws');
    assert.deepEqual(await late.request({ sub: { cn: 'news', pr: 0 } }, 'subAck'), { st: 1, cn: 'news' });
    assert.deepEqual(await late.seen('push', { cn: 'news' }), { cn: 'news', dt: [1, 2], cl: 'b-pub', rt: 1 });
    for (const client of [sub, pub, late]) client.close();
  });

  it('sessions: pub before conn is 7, $mySubscriptions, `update` is the server\'s (7), an offline P2P target is 8, takeover closes the older connection', { timeout: 30_000 }, async () => {
    const early = await RawClient.open('tcp', portOf(env, 'tcp'));
    assert.deepEqual(await early.request({ pub: { cn: 'x', dt: 1, id: 'e' } }, 'pubAck'), { st: 7, id: 'e' });
    early.close();
    const client = await session(env, 'b-session', 'tls');
    const answer = await client.request({ pub: { cn: '$mySubscriptions', dt: {}, id: 's' } }, 'pubAck');
    assert.deepEqual(answer, { st: 1, id: 's', dt: { channels: { '#b-session': 'persistent', update: 'persistent' } } });
    assert.deepEqual(await client.request({ pub: { cn: 'update', dt: 1, q: 1, id: 'u' } }, 'pubAck'), { st: 7, id: 'u' });
    assert.deepEqual(await client.request({ sub: { cn: 'update', pr: 0 } }, 'subAck'), { st: 7, cn: 'update' });
    assert.deepEqual(await client.request({ pub: { cn: '#nobody', dt: 1, q: 1, id: 'p' } }, 'pubAck'), { st: 8, id: 'p' });
    const newer = await session(env, 'b-session', 'wss');
    await client.waitClosed();
    newer.close();
  });

  it('bad input: a malformed packet with an id is answered 10, a pub on a long channel 11', { timeout: 30_000 }, async () => {
    const client = await session(env, 'b-bad');
    assert.deepEqual(await client.request({ pub: { cn: 'x', dt: 1, q: 7, id: 'm' } }, 'pubAck'), { st: 10, id: 'm' });
    assert.deepEqual(await client.request({ pub: { cn: 'c'.repeat(600), dt: 1, q: 1, id: 'l' } }, 'pubAck'), { st: 11, id: 'l' });
    client.close();
  });

  it('HTTP, loaded at the first request: /api/health, /metrics (storage latency, process metrics), the dashboard or its fallback', { timeout: 30_000 }, async () => {
    const base = `http://127.0.0.1:${portOf(env, 'ws')}`;
    const health = await fetch(`${base}/api/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, 'ok');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^jmqt_storage_enqueue_seconds_count [1-9]\d*$/m);
    assert.match(metrics, /^jmqt_storage_enqueue_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m);
    assert.match(metrics, /^jmqt_process_process_resident_memory_bytes \d+/m);
    assert.match(metrics, /^jmqt_sessions \d+$/m);
    assert.equal((await fetch(`${base}/`)).status, 200);
  });

  it('the compiled jmqt publishes and subscribes against it', { timeout: 30_000 }, async () => {
    const entry = [compiledCli];
    const published = await runCli(['pub', '-p', env['JMQT_SOCKET_PORT']!, '-c', 'cli', '-m', 'kept', '-r', '-q', '1'], { entry });
    assert.equal(published.code, 0, published.stderr);
    assert.equal(published.stdout, 'OK\n');
    const received = await runCli(['sub', '--tls', '--insecure', '-p', env['JMQT_SSL_SOCKET_PORT']!, '-c', 'cli', '-n', '1', '--timeout', '10'], { entry });
    assert.equal(received.code, 0, received.stderr);
    assert.match(received.stdout, /^cli jmqt-[0-9a-f]+ kept\n$/);
  });

  it('SIGTERM: exits 0; restarted, it delivers the QoS 1 message stored for an offline subscriber', { timeout: 30_000 }, async () => {
    const keeper = await session(env, 'b-keeper');
    await keeper.request({ sub: { cn: 'vault', pr: 1 } }, 'subAck', { st: 1 });
    keeper.send({ disconn: {} });
    await keeper.waitClosed();
    const pub = await session(env, 'b-depositor');
    assert.deepEqual(await pub.request({ pub: { cn: 'vault', dt: 'kept', q: 1, id: 'v' } }, 'pubAck'), { st: 1, id: 'v' });
    pub.close();
    assert.equal(await broker.stop(), 0);
    assert.match(broker.output(), /SIGTERM received: shutting down/);
    broker = await startCompiledBroker(env);
    const back = await RawClient.open('tcp', portOf(env, 'tcp'));
    const authAck = await back.request({ auth: { dt: { client_name: 'b-keeper' } } }, 'authAck');
    const push = back.next('push', { cn: 'vault' });
    back.send({ conn: { at: authAck['at'], cl: 'b-keeper' } });
    assert.deepEqual({ ...(await push), id: undefined }, { cn: 'vault', dt: 'kept', cl: 'b-depositor', q: 1, id: undefined });
    back.close();
  });
});

describe('the compiled broker in AUTH_MODE = jwt (jose, an ES module, required by the CommonJS build)', () => {
  it('accepts a signed token and refuses a forged one', { timeout: 30_000 }, async () => {
    const secret = 'a-jwt-secret-of-at-least-32-bytes!!';
    const env = { ...(await brokerEnv()), JMQT_ENABLE_SSL: '0', JMQT_AUTH_MODE: 'jwt', JMQT_JWT_SECRET: secret, JMQT_SQLITE_PATH: join(dir, 'jwt.db') };
    const broker = await startCompiledBroker(env);
    try {
      const sign = (key: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('jwt-user').setExpirationTime('1h').sign(new TextEncoder().encode(key));
      const client = await RawClient.open('tcp', portOf(env, 'tcp'));
      const good = await client.request({ auth: { dt: { token: await sign(secret) } } }, 'authAck');
      assert.equal(good['st'], 1, JSON.stringify(good));
      assert.equal(good['cl'], 'jwt-user');
      const forged = await client.request({ auth: { dt: { token: await sign('another-secret-of-at-least-32-bytes') } } }, 'authAck');
      assert.deepEqual(forged, { st: 7, mg: 'token refused: bad signature' });
      client.close();
      assert.doesNotMatch(broker.output(), /ExperimentalWarning|Error/);
    } finally {
      await broker.stop();
    }
  });
});

describe('npm start', () => {
  it('builds what is missing, then runs exactly one node process, the compiled broker, which SIGTERM reaches', { timeout: 300_000 }, async (t) => {
    const env = { ...(await brokerEnv()), JMQT_ENABLE_SSL: '0', JMQT_SQLITE_PATH: join(dir, 'start.db') };
    const started = performance.now();
    const npm = spawn('npm', ['start'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    npm.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    try {
      while (!/broker listening/.test(output)) {
        if (npm.exitCode !== null) assert.fail(`npm start exited with ${npm.exitCode}: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      t.diagnostic(`npm start: listening after ${(performance.now() - started).toFixed(0)} ms`);
      const children = psChildren(npm.pid!);
      assert.equal(children.length, 1, JSON.stringify(children));
      const [[brokerPid, args]] = children as [[number, string]];
      assert.equal(args, `node ${compiledMain}`);
      assert.deepEqual(psChildren(brokerPid), []);
      assert.doesNotMatch(output, /tsx/);
      npm.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      assert.match(output, /SIGTERM received: shutting down/);
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
    }
  });
});
