import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, configKeys, defaultConfig, loadConfig, parseConfigFile } from './config';

const original = `# JMQT server configuration, original format
LOG_PATH = /var/log/jmqt.log
LOG_MODE = DBG

SOCKET_PORT = 9010
WEBSOCKET_PORT=9011
ENABLE_SSL = 0
TIMEOUT_SECONDS = 30
ENABLE_REDIS = 0
REDIS_HOST = 10.0.0.5
ENABLE_MYSQL = 1
MYSQL_PSWD = s3cr=t
`;

test('defaults: the protocol ports, 15 s timeout, SQLite in data/', () => {
  const config = defaultConfig();
  assert.equal(config.SOCKET_PORT, 8010);
  assert.equal(config.WEBSOCKET_PORT, 8011);
  assert.equal(config.SSL_SOCKET_PORT, 8012);
  assert.equal(config.SSL_WEBSOCKET_PORT, 8013);
  assert.equal(config.TIMEOUT_SECONDS, 15);
  assert.equal(config.SQLITE_PATH, 'data/jmqt.db');
  assert.equal(config.MAX_PACKET_BYTES, 1024 * 1024);
});

test('reads the original KEY = value format with comments', () => {
  const config = parseConfigFile(original, 'server.conf');
  assert.deepEqual(config, {
    LOG_PATH: '/var/log/jmqt.log', LOG_MODE: 'DBG', SOCKET_PORT: 9010, WEBSOCKET_PORT: 9011, ENABLE_SSL: false,
    TIMEOUT_SECONDS: 30, ENABLE_REDIS: false, REDIS_HOST: '10.0.0.5', ENABLE_MYSQL: true, MYSQL_PSWD: 's3cr=t',
  });
});

test('file from --config or JMQT_CONFIG, then JMQT_<KEY> variables win', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-config-'));
  const file = join(dir, 'server.conf');
  writeFileSync(file, original);
  try {
    assert.equal(loadConfig(['--config', file], {}).SOCKET_PORT, 9010);
    assert.equal(loadConfig([], { JMQT_CONFIG: file }).TIMEOUT_SECONDS, 30);
    const config = loadConfig(['--config', file], { JMQT_SOCKET_PORT: '18010', JMQT_SQLITE_PATH: '/tmp/x.db' });
    assert.equal(config.SOCKET_PORT, 18010);
    assert.equal(config.SQLITE_PATH, '/tmp/x.db');
    assert.equal(config.WEBSOCKET_PORT, 9011);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every key can be overridden from the environment', () => {
  const samples: Record<string, string> = { LOG_MODE: 'ERR', SQLITE_SYNC: 'normal', MAX_PACKET_BYTES: '4096', MAX_CHANNEL_LENGTH: '64', QUEUE_POLICY: 'reject-publisher' };
  for (const key of configKeys) {
    const kind = typeof defaultConfig()[key];
    const value = samples[key] ?? (kind === 'boolean' ? '1' : kind === 'number' ? '12' : 'x');
    const config = loadConfig([], { JMQT_SSL_CERT_PATH: 'c', JMQT_SSL_KEY_PATH: 'k', [`JMQT_${key}`]: value });
    assert.equal(String(config[key] === true ? 1 : config[key]), value, key);
  }
});

const refusals: Array<[string, Record<string, string>, RegExp]> = [
  ['unknown file key', { file: 'SOKET_PORT = 1' }, /SOKET_PORT/],
  ['line without =', { file: 'SOCKET_PORT 1' }, /KEY = value/],
  ['port out of range', { JMQT_SOCKET_PORT: '70000' }, /SOCKET_PORT/],
  ['not a number', { JMQT_TIMEOUT_SECONDS: 'soon' }, /TIMEOUT_SECONDS/],
  ['bad flag', { JMQT_ENABLE_SSL: 'maybe' }, /ENABLE_SSL/],
  ['bad level', { JMQT_LOG_MODE: 'LOUD' }, /LOG_MODE/],
  ['unknown env key', { JMQT_SOKET_PORT: '1' }, /SOKET_PORT/],
  ['SSL without files', { JMQT_ENABLE_SSL: '1' }, /SSL_CERT_PATH/],
];
for (const [name, input, message] of refusals) {
  test(`refuses ${name}, naming the key`, () => {
    const { file, ...env } = input;
    assert.throws(() => (file ? parseConfigFile(file, 'x.conf') : loadConfig([], env)), (error: Error) => error instanceof ConfigError && message.test(error.message));
  });
}

test('a bad key stops start-up with a message naming it', () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const result = spawnSync(process.execPath, ['--import', 'tsx', main], { env: { ...process.env, JMQT_SOCKET_PORT: 'eighty' }, encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /SOCKET_PORT/);
});
