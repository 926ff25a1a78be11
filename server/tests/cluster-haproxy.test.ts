import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleConfig, renderHaproxyConfig } from '../../deploy/haproxy-config';
import { haproxyBinary, runnable } from '../../deploy/launch';
import { servicesRequired } from '../testing/services';

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
    assert.match(config, /server a 10\.0\.0\.1:8010 check port 8011 inter 1s fall 2 rise 1/);
    assert.match(config, /server b 10\.0\.0\.2:8011 track jmqt_socket\/b/);
    assert.match(config, /bind \*:9010/);
    assert.doesNotMatch(config, /ssl|stats|shutdown-sessions/);
    // Without maxConnections HAProxy derives maxconn from `ulimit -n` (a fixed one above it stops HAProxy).
    assert.doesNotMatch(config, /^\s+maxconn/m);
    assert.match(renderHaproxyConfig({ nodes: twoNodes, frontends: { socket: 1, webSocket: 2 }, maxConnections: 4000 }), /^global\n\s+maxconn 4000$/m);
  });

  it('TLS frontends pass TLS through (no certificate on HAProxy); stats are optional', () => {
    const nodes = twoNodes.map((node) => ({ ...node, sslSocket: 8012, sslWebSocket: 8013 }));
    const config = renderHaproxyConfig({ nodes, frontends: { socket: 1, webSocket: 2, sslSocket: 3, sslWebSocket: 4 }, statsPort: 5, bind: '127.0.0.1', checkIntervalMs: 500 });
    assert.match(config, /frontend jmqt_ssl_socket\n.*\n\s+bind 127\.0\.0\.1:3\n/);
    assert.match(config, /server b 10\.0\.0\.2:8013 track jmqt_socket\/b/);
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
});
