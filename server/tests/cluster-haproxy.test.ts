import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleConfig, renderHaproxyConfig } from '../../deploy/haproxy-config';
import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { haproxyBinary, httpGet, nodeEnv, runnable, startHaproxy, waitForServers, waitUntil } from '../../deploy/launch';
import { servicesRequired } from '../testing/services';
import { startTestBroker } from '../testing/harness';
import { freePort } from '../testing/process';
import { NulFramer } from '../../shared/framer';

const example = fileURLToPath(new URL('../../deploy/haproxy.cfg', import.meta.url));
const haproxy = haproxyBinary();
const haproxySkip = (await runnable(haproxy)) ? false : 'haproxy not installed';
if (haproxySkip && servicesRequired) throw new Error(`haproxy (${haproxy}) is required (JMQT_TEST_REQUIRE_SERVICES=1) but cannot be run`);

/** `haproxy -c`: answers its output, rejects when HAProxy finds the file invalid. */
function haproxyCheck(config: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  return new Promise<string>((resolve, reject) => {
    execFile(haproxy, ['-c', '-f', file], (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if (error) reject(new Error(`${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

const twoNodes = [
  { name: 'a', host: '10.0.0.1', socket: 8010, webSocket: 8011 },
  { name: 'b', host: '10.0.0.2', socket: 8010, webSocket: 8011 },
];

describe('HAProxy configuration for a cluster', () => {
  it('deploy/haproxy.cfg is what exampleConfig() renders (regenerate: npx tsx deploy/haproxy-config.ts > deploy/haproxy.cfg)', () => {
    assert.equal(readFileSync(example, 'utf8'), exampleConfig());
  });

  it('TCP mode, leastconn, long timeouts, health checks on each node\'s /api/health', () => {
    const config = renderHaproxyConfig({ nodes: twoNodes, frontends: { socket: 9010, webSocket: 9011 } });
    assert.match(config, /^\s+mode tcp$/m);
    assert.equal(config.match(/balance leastconn/g)?.length, 2);
    for (const key of ['client', 'server', 'tunnel']) assert.match(config, new RegExp(`timeout ${key} 3600s`));
    assert.match(config, /option httpchk\n\s+http-check send meth GET uri \/api\/health\n\s+http-check expect status 200/);
    assert.match(config, /server a 10\.0\.0\.1:8010 send-proxy-v2 check port 8011 check-send-proxy inter 1s fall 2 rise 1/);
    assert.match(config, /server b 10\.0\.0\.2:8011 send-proxy-v2 track jmqt_socket\/b/);
    assert.match(config, /bind \*:9010/);
    assert.doesNotMatch(config, /ssl|stats|shutdown-sessions/);
    // Without maxConnections HAProxy derives maxconn from `ulimit -n` (a fixed one above it stops HAProxy).
    assert.doesNotMatch(config, /^\s+maxconn/m);
    assert.match(renderHaproxyConfig({ nodes: twoNodes, frontends: { socket: 1, webSocket: 2 }, maxConnections: 4000 }), /^global\n\s+maxconn 4000$/m);
  });

  it('every server gets a PROXY v2 header (send-proxy-v2), health checks too (check-send-proxy); nodes expect one', () => {
    const nodes = twoNodes.map((node) => ({ ...node, sslSocket: 8012, sslWebSocket: 8013 }));
    for (const config of [renderHaproxyConfig({ nodes, frontends: { socket: 1, webSocket: 2, sslSocket: 3, sslWebSocket: 4 } }), exampleConfig()]) {
      const servers = config.split('\n').filter((line) => /^\s+server /.test(line));
      assert.ok(servers.length >= 8);
      for (const line of servers) assert.match(line, / send-proxy-v2 /, line);
      const checked = servers.filter((line) => / check /.test(line));
      assert.ok(checked.length >= 2);
      for (const line of checked) assert.match(line, / check-send-proxy /, line);
      for (const line of servers.filter((line) => !/ check /.test(line))) assert.match(line, / track jmqt_socket\//, line);
      // Never the text header (v1): the nodes read v2 only.
      for (const line of servers) assert.doesNotMatch(line, / send-proxy( |$)/, line);
    }
    const env = nodeEnv({
      nodeId: 'n1', ports: { socket: 1, webSocket: 2 }, authSecret: 's', mysql: { database: 'd' }, redis: { port: 3 }, clusterName: 'c', dir: '/tmp/n1',
    });
    assert.equal(env['JMQT_PROXY_PROTOCOL'], '1');
    // The header gives each client's address, so the per-address limits keep their defaults.
    assert.equal(env['JMQT_MAX_CONNECTIONS_PER_ADDRESS'], undefined);
    assert.equal(env['JMQT_CONNECTION_RATE_PER_ADDRESS'], undefined);
  });

  it('TLS frontends pass TLS through (no certificate on HAProxy); stats are optional', () => {
    const nodes = twoNodes.map((node) => ({ ...node, sslSocket: 8012, sslWebSocket: 8013 }));
    const config = renderHaproxyConfig({ nodes, frontends: { socket: 1, webSocket: 2, sslSocket: 3, sslWebSocket: 4 }, statsPort: 5, bind: '127.0.0.1', checkIntervalMs: 500 });
    assert.match(config, /frontend jmqt_ssl_socket\n.*\n\s+bind 127\.0\.0\.1:3\n/);
    assert.match(config, /server b 10\.0\.0\.2:8013 send-proxy-v2 track jmqt_socket\/b/);
    assert.match(config, /inter 500ms/);
    assert.doesNotMatch(config, /\bcrt\b|ssl-/);
    assert.match(config, /listen stats\n\s+mode http\n\s+bind 127\.0\.0\.1:5/);
  });

  it('refuses what HAProxy could not route', () => {
    assert.throws(() => renderHaproxyConfig({ nodes: [], frontends: { socket: 1, webSocket: 2 } }), /at least one node/);
    assert.throws(() => renderHaproxyConfig({ nodes: twoNodes, frontends: { socket: 1, webSocket: 2, sslSocket: 3 } }), /no sslSocket port/);
    assert.throws(() => renderHaproxyConfig({ nodes: [{ ...twoNodes[0]!, name: 'a b' }], frontends: { socket: 1, webSocket: 2 } }), /not a valid/);
    assert.throws(() => renderHaproxyConfig({ nodes: [twoNodes[0]!, twoNodes[0]!], frontends: { socket: 1, webSocket: 2 } }), /unique/);
  });

  it('HAProxy accepts the example and a rendered configuration (haproxy -c)', { skip: haproxySkip }, async () => {
    assert.match(await haproxyCheck(readFileSync(example, 'utf8')), /valid/);
    assert.match(await haproxyCheck(renderHaproxyConfig({ nodes: twoNodes, frontends: { socket: 9010, webSocket: 9011 }, statsPort: 9404 })), /valid/);
  });

  it('a real HAProxy before a node with PROXY_PROTOCOL = 1: checks pass, the node sees each client\'s own address', { skip: haproxySkip, timeout: 30_000 }, async () => {
    // One in-process node is enough for what HAProxy sends (no MariaDB or Redis needed).
    const node = await startTestBroker({ PROXY_PROTOCOL: true });
    const dir = mkdtempSync(join(tmpdir(), 'jmqt-haproxy-'));
    const frontends = { socket: await freePort(), webSocket: await freePort() };
    const statsPort = await freePort();
    const config = renderHaproxyConfig({
      nodes: [{ name: 'n1', host: '127.0.0.1', socket: node.ports.socket, webSocket: node.ports.webSocket }],
      frontends, bind: '127.0.0.1', statsPort, checkIntervalMs: 200,
    });
    const proxy = await startHaproxy(config, dir, statsPort);
    const sockets: Array<{ destroy(): void }> = [];
    try {
      // The health check reaches /api/health only with its PROXY header (check-send-proxy).
      await waitForServers(statsPort, 'jmqt_socket', { n1: 'UP' }, 10_000);
      // A client at 127.0.0.2 (HAProxy itself connects from 127.0.0.1): the node must name 127.0.0.2.
      const socket = tcpConnect({ host: '127.0.0.1', port: frontends.socket, localAddress: '127.0.0.2' });
      sockets.push(socket);
      const answers: Array<Record<string, Record<string, unknown>>> = [];
      const framer = new NulFramer(1024 * 1024);
      socket.on('data', (chunk: Buffer) => framer.push(chunk, (frame) => answers.push(JSON.parse(Buffer.from(frame).toString('utf8')))));
      const answer = (type: string) => waitUntil(() => answers.find((packet) => type in packet)?.[type], 5000, `a ${type}`);
      socket.write(JSON.stringify({ auth: { dt: { client_name: 'behind-haproxy' } } }) + '\0');
      const auth = await answer('authAck');
      socket.write(JSON.stringify({ conn: { at: auth['at'], cl: 'behind-haproxy' } }) + '\0');
      assert.deepEqual(await answer('connAck'), { st: 1, ts: 15 });
      const ws = new WebSocket(`ws://127.0.0.1:${frontends.webSocket}/`, { localAddress: '127.0.0.3' });
      sockets.push({ destroy: () => ws.terminate() });
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      const wsAuth = new Promise<Record<string, unknown>>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString())['authAck'])));
      ws.send(JSON.stringify({ auth: { dt: { client_name: 'ws-behind-haproxy' } } }));
      ws.send(JSON.stringify({ conn: { at: (await wsAuth)['at'], cl: 'ws-behind-haproxy' } }));

      const clients = await waitUntil(async () => {
        const { status, body } = await httpGet(node.ports.webSocket, '/api/clients', 3000, { proxy: true });
        assert.equal(status, 200);
        const list = (body as { clients: Array<{ clientId: string; remoteHost: string }> }).clients;
        return list.length === 2 ? list : null;
      }, 5000, 'both sessions');
      assert.deepEqual(Object.fromEntries(clients.map((c) => [c.clientId, c.remoteHost])), { 'behind-haproxy': '127.0.0.2', 'ws-behind-haproxy': '127.0.0.3' });
      // Through HAProxy the API sees the caller's own address: loopback here, so it answers.
      assert.equal((await httpGet(frontends.webSocket, '/api/health')).status, 200);
      // Straight to the node without a header: destroyed.
      await assert.rejects(httpGet(node.ports.webSocket, '/api/health'));
    } finally {
      for (const socket of sockets) socket.destroy();
      await proxy.stop('SIGTERM', 3000);
      await node.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
