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
  const samples: Record<string, string> = {
    LOG_MODE: 'ERR', LOG_FORMAT: 'json', SQLITE_SYNC: 'normal', MAX_PACKET_BYTES: '4096', MAX_CHANNEL_LENGTH: '64', QUEUE_POLICY: 'reject-publisher',
    MAX_AUTH_BYTES: '4096',
    AUTH_MODE: 'sample', AUTH_HTTP_TIMEOUT_MS: '1200', JWT_JWKS_URL: 'https://idp.example/jwks', AUTH_HTTP_URL: 'http://auth.example/check',
  };
  // Keys of one AUTH_MODE need that mode (and, for jwt, its one key).
  const companions: Record<string, Record<string, string>> = {
    PASSWORD_FILE: { JMQT_AUTH_MODE: 'password' },
    JWT_SECRET: { JMQT_AUTH_MODE: 'jwt' }, JWT_PUBLIC_KEY_PATH: { JMQT_AUTH_MODE: 'jwt' }, JWT_JWKS_URL: { JMQT_AUTH_MODE: 'jwt' },
    JWT_AUDIENCE: { JMQT_AUTH_MODE: 'jwt', JMQT_JWT_SECRET: 's' }, JWT_ISSUER: { JMQT_AUTH_MODE: 'jwt', JMQT_JWT_SECRET: 's' },
    AUTH_HTTP_URL: { JMQT_AUTH_MODE: 'http' },
  };
  for (const key of configKeys) {
    const kind = typeof defaultConfig()[key];
    const value = samples[key] ?? (kind === 'boolean' ? '1' : kind === 'number' ? '12' : 'x');
    const config = loadConfig([], { JMQT_SSL_CERT_PATH: 'c', JMQT_SSL_KEY_PATH: 'k', ...companions[key], [`JMQT_${key}`]: value });
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
  ['an unknown AUTH_MODE', { JMQT_AUTH_MODE: 'ldap' }, /AUTH_MODE.*'ldap'.*sample, password, jwt, http/],
  ['password mode without its file', { JMQT_AUTH_MODE: 'password' }, /^PASSWORD_FILE: required/],
  ['jwt mode without a key', { JMQT_AUTH_MODE: 'jwt' }, /JWT_SECRET, JWT_PUBLIC_KEY_PATH or JWT_JWKS_URL/],
  ['jwt mode with two keys', { JMQT_AUTH_MODE: 'jwt', JMQT_JWT_SECRET: 's', JMQT_JWT_JWKS_URL: 'https://x/' }, /JWT_SECRET and JWT_JWKS_URL: set only one/],
  ['a JWKS URL that is none', { JMQT_AUTH_MODE: 'jwt', JMQT_JWT_JWKS_URL: 'file:///etc/keys' }, /^JWT_JWKS_URL/],
  ['http mode without its URL', { JMQT_AUTH_MODE: 'http' }, /^AUTH_HTTP_URL: required/],
  ['http mode with a URL that is none', { JMQT_AUTH_MODE: 'http', JMQT_AUTH_HTTP_URL: 'auth.local' }, /^AUTH_HTTP_URL/],
  ["a mode's key under another mode", { JMQT_PASSWORD_FILE: '/etc/jmqt/passwords' }, /^PASSWORD_FILE is set, but AUTH_MODE is sample/],
  ['an HTTP timeout out of range', { JMQT_AUTH_MODE: 'http', JMQT_AUTH_HTTP_URL: 'http://a/', JMQT_AUTH_HTTP_TIMEOUT_MS: '5' }, /AUTH_HTTP_TIMEOUT_MS/],
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
