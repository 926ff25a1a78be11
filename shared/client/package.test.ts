/**
 * The SDK as the installable package @jmqt/client: built (scripts/build-sdk.ts)
 * and packed with npm pack into a temporary folder, installed from the tarball
 * alone into a fresh temporary project (`npm install --offline` with an empty
 * cache: nothing may come from a registry), then used there by plain ESM
 * scripts in their own Node processes against a real broker this test starts
 * on free ports: publish/subscribe round trips over TCP (the core and
 * `@jmqt/client/node/socket`, no `ws` installed), then, once `ws` is added
 * (from this repository's node_modules, still offline), over WebSocket with
 * `@jmqt/client/node/ws` and with the browser core's transport. The project's
 * TypeScript consumer is type-checked against the shipped declarations.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSdk, packSdk, type BuiltSdk } from '../../scripts/build-sdk';
import { startTestBroker, type TestBroker } from '../../server/testing/harness';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs a command without blocking the event loop (the broker under test lives in this process). */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

async function mustRun(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  assert.equal(result.code, 0, `${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** A round trip as a user of the package writes it: a subscriber and a QoS 1 publisher. */
const roundTrip = (imports: string, transport: string) => `
${imports}
const [port, name] = process.argv.slice(2);
const makeTransport = () => ${transport};
async function login(clientName) {
  const client = new JmqtClient(makeTransport(), { requestTimeoutMs: 5000 });
  const auth = await client.auth({ client_name: clientName });
  if (auth.status !== Status.OK) throw new Error('auth ' + auth.status);
  const conn = await client.conn(auth.clientId, auth.token);
  if (conn.status !== Status.OK) throw new Error('conn ' + conn.status);
  return client;
}
const subscriber = await login(name + '-sub');
const publisher = await login(name + '-pub');
// The sample application also pushes presence on 'update': wait for ours.
const got = new Promise((resolve) => subscriber.on('push', (push) => { if (push.channel === 'pkg/' + name) resolve(push); }));
const sub = await subscriber.sub('pkg/' + name, true);
const ack = await publisher.pub('pkg/' + name, { hello: name, n: 1 }, { qos: 1 });
const push = await got;
await subscriber.disconnect();
await publisher.disconnect();
console.log(JSON.stringify({ sub: sub.status, ack: ack.status, push: { channel: push.channel, sender: push.sender, data: push.data, qos: push.qos } }));
`;

describe('the SDK package @jmqt/client', { timeout: 240_000 }, () => {
  let dir = '';
  let built: BuiltSdk;
  let tarball = '';
  let app = '';
  let broker: TestBroker;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jmqt-sdk-package-'));
    built = buildSdk(join(dir, 'package'));
    tarball = packSdk(built, join(dir, 'packed'));
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-project', version: '0.0.0', private: true, type: 'module' }, null, 2));
    broker = await startTestBroker();
  });

  after(async () => {
    await broker?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('packs ESM and declarations only, with exports for the core and the Node transports', async () => {
    const listing = await mustRun('tar', ['tzf', tarball], dir);
    const files = listing.split('\n').filter(Boolean).map((file) => file.replace(/^package\//, ''));
    assert.ok(files.includes('package.json') && files.includes('README.md'));
    for (const file of ['dist/client/index.js', 'dist/client/index.d.ts', 'dist/client/node/socket-transport.js', 'dist/client/node/ws-transport.d.ts', 'dist/codec.js', 'dist/packets.js', 'dist/status.js', 'dist/keys.js']) {
      assert.ok(files.includes(file), `${file} in the tarball`);
    }
    assert.deepEqual(files.filter((file) => (file.endsWith('.ts') && !file.endsWith('.d.ts')) || file.includes('.test.')), [], 'no sources, no tests');
    const manifest = JSON.parse(readFileSync(join(built.dir, 'package.json'), 'utf8'));
    assert.equal(manifest.name, '@jmqt/client');
    assert.equal(manifest.type, 'module');
    assert.deepEqual(Object.keys(manifest.exports), ['.', './node', './node/socket', './node/ws', './package.json']);
    assert.deepEqual(manifest.dependencies ?? {}, {});
    assert.equal(manifest.peerDependenciesMeta.ws.optional, true);
    // The browser entry loads only files of its own, none under node/.
    assert.ok(built.browserFiles.length > 5);
    assert.ok(built.browserFiles.every((file) => file.startsWith('dist/') && !file.includes('/node/')), built.browserFiles.join(', '));
  });

  it('installs from the tarball alone into a fresh project and round-trips over TCP', async () => {
    // An empty cache and --offline: the install may use nothing but the tarball.
    await mustRun('npm', ['install', '--offline', '--cache', join(dir, 'npm-cache'), '--no-audit', '--no-fund', tarball], app);
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', '@jmqt', 'client', 'package.json'), 'utf8'));
    assert.equal(installed.version, built.version);

    writeFileSync(join(app, 'tcp.mjs'), roundTrip(
      "import { JmqtClient, Status } from '@jmqt/client';\nimport { NodeSocketTransport } from '@jmqt/client/node/socket';",
      "new NodeSocketTransport({ host: '127.0.0.1', port: Number(port) })",
    ));
    const output = await mustRun(process.execPath, ['tcp.mjs', String(broker.ports.socket), 'tcp'], app);
    assert.deepEqual(JSON.parse(output.trim().split('\n').at(-1)!), { sub: 1, ack: 1, push: { channel: 'pkg/tcp', sender: 'tcp-pub', data: { hello: 'tcp', n: 1 }, qos: 1 } });

    // Without ws, only the ws transport is out of reach.
    writeFileSync(join(app, 'no-ws.mjs'), "try { await import('@jmqt/client/node/ws'); console.log('loaded'); } catch (error) { console.log(error.code); }\n");
    assert.equal((await mustRun(process.execPath, ['no-ws.mjs'], app)).trim(), 'ERR_MODULE_NOT_FOUND');
  });

  it('type-checks a TypeScript consumer against the shipped declarations', async () => {
    writeFileSync(join(app, 'consumer.ts'), `
import { JmqtClient, Status, statusName, JmqtError, BrowserWebSocketTransport, type PushEvent, type ClientState } from '@jmqt/client';
import { NodeSocketTransport } from '@jmqt/client/node/socket';

const client = new JmqtClient(new NodeSocketTransport({ host: 'localhost', port: 8010 }), { reconnect: { initialDelayMs: 500 } });
const state: ClientState = client.state;
client.on('push', (push: PushEvent) => console.log(push.channel, push.data));
export async function use(): Promise<number> {
  const answer = await client.pub('c', { x: 1 }, { qos: 1 });
  // @ts-expect-error the declarations are real types, not any: a status is a number
  const wrong: string = answer.status;
  return answer.status === Status.OK ? 1 : statusName(answer.status).length + wrong.length + state.length;
}
export const browser = new BrowserWebSocketTransport('ws://localhost:8011/');
export const isError = (error: unknown) => error instanceof JmqtError;
`);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        // Our declarations are checked too; @types/node comes from this repository.
        skipLibCheck: false, lib: ['ES2023', 'DOM'], types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: ['consumer.ts'],
    }));
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    await mustRun(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
  });

  it('round-trips over WebSocket once ws is installed: @jmqt/client/node/ws and the browser transport', async () => {
    // ws from this repository's node_modules (a folder, no registry), as an application would add it.
    await mustRun('npm', ['install', '--offline', '--cache', join(dir, 'npm-cache'), '--no-audit', '--no-fund', join(root, 'node_modules', 'ws')], app);
    writeFileSync(join(app, 'ws.mjs'), roundTrip(
      "import { JmqtClient, Status } from '@jmqt/client';\nimport { NodeWsTransport } from '@jmqt/client/node/ws';",
      'new NodeWsTransport(`ws://127.0.0.1:${port}/`)',
    ));
    writeFileSync(join(app, 'browser.mjs'), roundTrip(
      "import { JmqtClient, Status, BrowserWebSocketTransport } from '@jmqt/client';\nimport { WebSocket } from 'ws';",
      'new BrowserWebSocketTransport(`ws://127.0.0.1:${port}/`, { WebSocket })',
    ));
    for (const name of ['ws', 'browser']) {
      const output = await mustRun(process.execPath, [`${name}.mjs`, String(broker.ports.webSocket), name], app);
      assert.deepEqual(JSON.parse(output.trim().split('\n').at(-1)!), { sub: 1, ack: 1, push: { channel: `pkg/${name}`, sender: `${name}-pub`, data: { hello: name, n: 1 }, qos: 1 } });
    }
    // Everything the Node transports need together.
    writeFileSync(join(app, 'both.mjs'), "import { NodeSocketTransport, NodeWsTransport } from '@jmqt/client/node';\nconsole.log(typeof NodeSocketTransport, typeof NodeWsTransport);\n");
    assert.equal((await mustRun(process.execPath, ['both.mjs'], app)).trim(), 'function function');
  });
});
