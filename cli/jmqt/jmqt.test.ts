// The `jmqt` command against a real broker process (the sample application,
// all four transports, free ports): pub/sub round trips over TCP, WebSocket,
// TLS and TLS WebSocket, the exit codes of refusals, timeouts, bad flags and
// an unreachable broker, QoS 1 pushes past -n left stored, bench pub, sub and
// conn summaries, and `jmqt passwd` with a broker in AUTH_MODE = password.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificate } from '../../server/testing/certificate';
import { runCli, startCli, type CliResult } from '../../server/testing/cli';
import { freePort, spawnBroker, type BrokerProcess } from '../../server/testing/process';

const dir = mkdtempSync(join(tmpdir(), 'jmqt-cli-'));
const { cert } = makeCertificate(dir);
const ports = { tcp: 0, ws: 0, tls: 0, wss: 0 };
let broker: BrokerProcess;

/** The flags that reach the test broker over one transport. */
function via(transport: keyof typeof ports): string[] {
  return {
    tcp: ['-p', String(ports.tcp)],
    ws: ['--ws', '-p', String(ports.ws)],
    tls: ['--tls', '--insecure', '-p', String(ports.tls)],
    wss: ['--ws', '--tls', '--insecure', '-p', String(ports.wss)],
  }[transport];
}

function assertOneLine(result: CliResult, pattern: RegExp): void {
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, `one line: ${result.stderr}`);
  assert.match(result.stderr.trimEnd(), pattern);
}

/** Publishes (`jmqt pub …args`) once `sub` (run with -v) says it has subscribed. */
async function publishOnceSubscribed(sub: ReturnType<typeof startCli>, args: string[]): Promise<void> {
  await sub.waitFor(/subscribed to/);
  const result = await runCli(['pub', ...args]);
  assert.equal(result.code, 0, result.stderr);
}

before(async () => {
  ports.tcp = await freePort();
  ports.ws = await freePort();
  ports.tls = await freePort();
  ports.wss = await freePort();
  broker = await spawnBroker({
    JMQT_SOCKET_PORT: String(ports.tcp), JMQT_WEBSOCKET_PORT: String(ports.ws),
    JMQT_SSL_SOCKET_PORT: String(ports.tls), JMQT_SSL_WEBSOCKET_PORT: String(ports.wss),
    JMQT_ENABLE_SSL: '1', JMQT_SSL_CERT_PATH: cert, JMQT_SSL_KEY_PATH: join(dir, 'key.pem'),
    JMQT_BIND_ADDRESS: '127.0.0.1', JMQT_SQLITE_PATH: join(dir, 'jmqt.db'), JMQT_SQLITE_SYNC: 'normal', JMQT_LOG_MODE: 'WRN',
  });
});

after(async () => {
  broker.child.kill('SIGTERM');
  await broker.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe('jmqt --help and bad flags', () => {
  it('--help of every command prints its usage and exits 0', async () => {
    for (const args of [['--help'], ['pub', '--help'], ['sub', '--help'], ['bench', '--help'], ['bench', 'pub', '--help'], ['bench', 'sub', '--help'], ['bench', 'conn', '--help'], ['passwd', '--help']]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, /^usage: jmqt/, args.join(' '));
    }
  });

  it('a missing, unknown or bad flag is one line on stderr naming the flag, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['pub', '-c', 'x'], /^jmqt pub: -m, --message is required/],
      [['pub', '-m', 'x'], /^jmqt pub: -c, --channel is required/],
      [['pub', '-c', 'x', '-m', 'y', '-q', '2'], /-q, --qos: expected 0 or 1, got '2'/],
      [['pub', '-c', 'x', '-m', 'y', '-p', '99999'], /-p, --port: expected a whole number from 1 to 65535/],
      [['pub', '-c', 'x', '-m', '{', '--json'], /-m, --message: not JSON/],
      [['pub', '-c', 'x', '-m', 'y', '--nope'], /unknown flag --nope/],
      [['pub', '-c', 'x', '-m'], /-m, --message needs a value/],
      [['pub', '-c', 'x', '-m', 'y', '--auth', '{}', '-u', 'a'], /--auth and -u, --user: give one/],
      [['pub', '-c', 'x', '-m', 'y', '--insecure'], /--insecure needs --tls/],
      [['sub'], /^jmqt sub: -c, --channel is required/],
      [['sub', '-c', 'x', '--timeout', 'soon'], /--timeout: expected a number of seconds/],
      [['sub', '-c', 'x', '-n', '0'], /-n, --count: expected a whole number/],
      [['bench', 'pub', '-C', 'many'], /^jmqt bench: -C, --clients: expected a whole number/],
      [['bench', 'fly'], /unknown bench 'fly'/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assertOneLine(result, pattern);
    }
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });
});

describe('jmqt pub and sub against a broker', () => {
  for (const transport of ['tcp', 'ws', 'tls', 'wss'] as const) {
    it(`round trip over ${transport}: QoS 0 and 1, text lines 'channel sender data', QoS 1 acknowledged`, async () => {
      const channel = `round-${transport}`;
      const sub = startCli(['sub', ...via(transport), '-v', '-c', channel, '-n', '2', '--timeout', '20']);
      await publishOnceSubscribed(sub, [...via(transport), '-u', `pub-${transport}`, '-c', channel, '-m', 'hello there']);
      const qos1 = await runCli(['pub', ...via(transport), '-u', `pub-${transport}`, '-c', channel, '-m', '{"n":1}', '--json', '-q', '1']);
      assert.equal(qos1.code, 0, qos1.stderr);
      assert.deepEqual({ ...JSON.parse(qos1.stdout), id: undefined }, { status: 1, name: 'OK', id: undefined });
      const result = await sub.done;
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.stdout.trimEnd().split('\n'), [`${channel} pub-${transport} hello there`, `${channel} pub-${transport} {"n":1}`]);
    });
  }

  it('--json on both sides: the data keeps its type, one JSON object per push', async () => {
    const sub = startCli(['sub', ...via('tcp'), '-v', '-c', 'typed', '-c', 'other', '-n', '1', '--json', '--timeout', '20']);
    await publishOnceSubscribed(sub, [...via('tcp'), '-u', 'typer', '-c', 'typed', '-m', '{"list":[1,"two",null],"line":"a\\nb"}', '--json', '-q', '1']);
    const result = await sub.done;
    assert.equal(result.code, 0, result.stderr);
    const push = JSON.parse(result.stdout);
    assert.deepEqual({ ...push, id: typeof push.id }, { channel: 'typed', sender: 'typer', data: { list: [1, 'two', null], line: 'a\nb' }, qos: 1, retained: false, id: 'string' });
  });

  it('a retained message comes at once; a string with a line break is printed JSON-quoted on one line', async () => {
    const pub = await runCli(['pub', ...via('tcp'), '-c', 'kept', '-m', 'two\nlines', '-r', '-q', '1']);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(pub.stdout, 'OK\n');
    const sub = await runCli(['sub', ...via('tcp'), '-c', 'kept', '-n', '1', '--timeout', '10']);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stdout, /^kept jmqt-[0-9a-f]+ "two\\nlines"\n$/);
  });

  it('a $ channel request prints the status and the answer data', async () => {
    const result = await runCli(['pub', ...via('tcp'), '-u', 'asker', '-c', '$mySubscriptions', '-m', '{}']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^OK \{"channels":\{.*"#asker":"persistent".*\}\}\n$/);
  });

  it('a refused pub prints the status by name and exits 1 (update is the server\'s, 7), QoS 0 and 1; so does an offline P2P target (8)', async () => {
    for (const qos of ['0', '1']) {
      const result = await runCli(['pub', ...via('tcp'), '-c', 'update', '-m', 'x', '-q', qos]);
      assert.equal(result.code, 1, `QoS ${qos}: ${result.stderr}`);
      assert.equal(result.stdout, 'NOT_ALLOWED\n');
    }
    const json = await runCli(['pub', ...via('tcp'), '-c', 'update', '-m', '"x"', '--json']);
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).status, 7);
    const offline = await runCli(['pub', ...via('tcp'), '-c', '#nobody-here', '-m', 'x', '-q', '1']);
    assert.equal(offline.code, 1);
    assert.equal(offline.stdout, 'CLIENT_OFFLINE\n');
  });

  it('a refused subscription exits 1 naming the channel and the status', async () => {
    const result = await runCli(['sub', ...via('tcp'), '-c', 'update', '--timeout', '5']);
    assert.equal(result.code, 1);
    assertOneLine(result, /^jmqt sub: sub update refused: NOT_ALLOWED$/);
  });

  it('sub --timeout: exit 4 when fewer than -n messages came, 0 without -n', async () => {
    const short = await runCli(['sub', ...via('tcp'), '-c', 'silent', '-n', '1', '--timeout', '1']);
    assert.equal(short.code, 4, short.stderr);
    assertOneLine(short, /timeout: 0 of 1 messages in 1 s/);
    assert.ok(short.ms < 8000, `took ${short.ms} ms`);
    const open = await runCli(['sub', ...via('tcp'), '-c', 'silent', '--timeout', '1']);
    assert.equal(open.code, 0, open.stderr);
    assert.equal(open.stdout, '');
  });

  it('an unreachable broker exits 3; a self-signed certificate without --insecure too, with a hint; --ca trusts it', async () => {
    const closed = await freePort();
    const unreachable = await runCli(['pub', '-p', String(closed), '-c', 'x', '-m', 'y']);
    assert.equal(unreachable.code, 3);
    assertOneLine(unreachable, new RegExp(`cannot connect to tcp://127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`));
    const untrusted = await runCli(['pub', '--tls', '-p', String(ports.tls), '-c', 'x', '-m', 'y']);
    assert.equal(untrusted.code, 3);
    assertOneLine(untrusted, /certificate.*--insecure, or --ca FILE/);
    const trusted = await runCli(['pub', '--tls', '--ca', cert, '-h', 'localhost', '-p', String(ports.tls), '-c', 'x', '-m', 'y', '-q', '1']);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.equal(trusted.stdout, 'OK\n');
  });

  it('-n with a persistent subscription: pushes past COUNT are not acknowledged and come at the next session', async () => {
    const first = await runCli(['sub', ...via('tcp'), '-u', 'carol', '-c', 'inbox', '--persistent', '--timeout', '0.5']);
    assert.equal(first.code, 0, first.stderr);
    for (const message of ['m1', 'm2', 'm3']) {
      const result = await runCli(['pub', ...via('tcp'), '-u', 'dave', '-c', 'inbox', '-m', message, '-q', '1']);
      assert.equal(result.code, 0, result.stderr);
    }
    const one = await runCli(['sub', ...via('tcp'), '-u', 'carol', '-c', 'inbox', '--persistent', '-n', '1', '--timeout', '10']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, 'inbox dave m1\n');
    const rest = await runCli(['sub', ...via('tcp'), '-u', 'carol', '-c', 'inbox', '--persistent', '-n', '2', '--timeout', '10']);
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal(rest.stdout, 'inbox dave m2\ninbox dave m3\n');
  });
});

describe('jmqt bench', () => {
  it('bench conn opens the sessions and prints the summary (text and --json)', async () => {
    const text = await runCli(['bench', 'conn', ...via('tcp'), '-C', '5', '-i', '5']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^bench conn: 5 of 5 sessions opened at tcp:\/\/127\.0\.0\.1:\d+ in [\d.]+ s, [\d.]+ conn\/s; failed 0\n/);
    assert.match(text.stdout, /auth \+ conn latency ms: min [\d.]+, p50 [\d.]+, p90 [\d.]+, p95 [\d.]+, p99 [\d.]+, max [\d.]+/);
    const json = await runCli(['bench', 'conn', ...via('ws'), '-C', '3', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const summary = JSON.parse(json.stdout);
    assert.equal(summary.connected, 3);
    assert.equal(summary.failed, 0);
    assert.equal(summary.latencyMs.count, 3);
  });

  it('bench sub counts what bench pub sends, with latency percentiles; the progress line goes to stderr', async () => {
    // 2 subscribers × (20 QoS 1 + 20 QoS 0 messages).
    const sub = startCli(['bench', 'sub', ...via('tcp'), '-C', '2', '-c', 'load', '-d', '20', '-n', '80', '--json']);
    await sub.waitFor(/bench sub: 2\/2 clients/);
    const pub = await runCli(['bench', 'pub', ...via('tcp'), '-C', '2', '-c', 'load', '-q', '1', '-L', '10', '-d', '10']);
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stdout, /^bench pub: 2 of 2 clients connected .* QoS 1, 32 B padding/);
    assert.match(pub.stdout, /\nsent 20 messages, [\d.]+ msg\/s; acknowledged 20, refused 0; errors 0/);
    assert.match(pub.stdout, /\npubAck latency ms: min [\d.]+, p50 [\d.]+/);
    const pubAgain = await runCli(['bench', 'pub', ...via('ws'), '-C', '1', '-c', 'load', '-q', '0', '-L', '20', '-I', '1']);
    assert.equal(pubAgain.code, 0, pubAgain.stderr);
    const result = await sub.done;
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.connected, 2);
    assert.equal(summary.received, 80, result.stdout);
    assert.equal(summary.qos1, 40);
    assert.equal(summary.latencyMs.count, 80);
    assert.ok(summary.latencyMs.p50 > 0 && summary.latencyMs.p99 >= summary.latencyMs.p50);
  });

  it('bench pub against no broker: every client failed, exit 3, the error in the summary', async () => {
    const result = await runCli(['bench', 'pub', '-p', String(await freePort()), '-C', '2', '-d', '1']);
    assert.equal(result.code, 3);
    assert.match(result.stdout, /0 of 2 clients connected/);
    assert.match(result.stdout, /error: 2× cannot connect/);
  });
});

describe('jmqt passwd', () => {
  it('writes a PASSWORD_FILE that a broker in AUTH_MODE = password accepts with -u and -P', async () => {
    const file = join(dir, 'passwords');
    writeFileSync(file, '# operators\n');
    const added = await runCli(['passwd', file, 'alice'], { input: 's3cret\n' });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, /added "alice"/);
    assert.match(readFileSync(file, 'utf8'), /^# operators\nalice:\$scrypt\$/);
    const port = await freePort();
    const guarded = await spawnBroker({
      JMQT_SOCKET_PORT: String(port), JMQT_WEBSOCKET_PORT: String(await freePort()), JMQT_BIND_ADDRESS: '127.0.0.1',
      JMQT_SQLITE_PATH: join(dir, 'guarded.db'), JMQT_LOG_MODE: 'ERR', JMQT_AUTH_MODE: 'password', JMQT_PASSWORD_FILE: file,
    });
    try {
      const right = await runCli(['pub', '-p', String(port), '-u', 'alice', '-P', 's3cret', '-c', 'x', '-m', 'y', '-q', '1']);
      assert.equal(right.code, 0, right.stderr);
      const wrong = await runCli(['pub', '-p', String(port), '-u', 'alice', '-P', 'guess', '-c', 'x', '-m', 'y']);
      assert.equal(wrong.code, 1);
      assertOneLine(wrong, /^jmqt pub: auth refused: NOT_ALLOWED: wrong client name or password$/);
    } finally {
      guarded.child.kill('SIGTERM');
      await guarded.exited;
    }
    const removed = await runCli(['passwd', '--delete', file, 'alice']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(readFileSync(file, 'utf8'), '# operators\n');
    const usage = await runCli(['passwd', file]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: jmqt passwd/);
  });
});

describe('the jmqt launcher (package.json bin)', () => {
  it('runs the CLI, compiled or from source', async () => {
    const result = await runCli(['--help'], { entry: ['cli/jmqt/bin.mjs'] });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^usage: jmqt <command>/);
    const json = await runCli(['pub', ...via('tcp'), '-c', 'launched', '-m', '1', '--json'], { entry: ['cli/jmqt/bin.mjs'] });
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).name, 'OK');
  });
});
