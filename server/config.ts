/**
 * Broker configuration: one defaults object (ARCHITECTURE rule 9), a config
 * file in the original `KEY = value` format, and `JMQT_<KEY>` environment
 * overrides, applied in that order. Unknown keys and bad values stop start-up
 * with a message naming the key.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_PACKET_BYTES, DEFAULT_TIMEOUT_SECONDS, DefaultPorts } from '../shared/keys';

export type Kind =
  | { type: 'int'; min: number; max: number }
  | { type: 'bool' }
  | { type: 'string' }
  | { type: 'enum'; values: readonly string[] };

const port: Kind = { type: 'int', min: 0, max: 65535 };
const positive: Kind = { type: 'int', min: 1, max: 2 ** 31 - 1 };
const text: Kind = { type: 'string' };
const flag: Kind = { type: 'bool' };

/** Every key, its default and its kind. Ports of 0 pick a free port (tests). */
const schema = {
  /** Log file; empty: standard output. */
  LOG_PATH: { default: '', kind: text },
  /** Lowest level written: DBG, INF, WRN or ERR. */
  LOG_MODE: { default: 'INF', kind: { type: 'enum', values: ['DBG', 'INF', 'WRN', 'ERR'] } },
  /** `text`: `TIME LEVEL message` lines; `json`: one JSON object per line, `{"time", "level" (debug, info, warn, error), "message"}`, for log collectors. */
  LOG_FORMAT: { default: 'text', kind: { type: 'enum', values: ['text', 'json'] } },
  /** Address every listener binds; empty: all interfaces. */
  BIND_ADDRESS: { default: '', kind: text },
  /** Raw TCP socket, each packet NUL-terminated. */
  SOCKET_PORT: { default: DefaultPorts.socket as number, kind: port },
  /** Plain WebSocket, the REST API and the dashboard share this port. */
  WEBSOCKET_PORT: { default: DefaultPorts.webSocket as number, kind: port },
  /** 1: also listen with TLS on SSL_SOCKET_PORT and SSL_WEBSOCKET_PORT. */
  ENABLE_SSL: { default: false, kind: flag },
  /** PEM certificate (chain) of the TLS listeners; required with ENABLE_SSL = 1. */
  SSL_CERT_PATH: { default: '', kind: text },
  /** PEM private key of the TLS listeners; required with ENABLE_SSL = 1. */
  SSL_KEY_PATH: { default: '', kind: text },
  /** TLS socket (ENABLE_SSL = 1). */
  SSL_SOCKET_PORT: { default: DefaultPorts.sslSocket as number, kind: port },
  /** TLS WebSocket, REST API and dashboard (ENABLE_SSL = 1). */
  SSL_WEBSOCKET_PORT: { default: DefaultPorts.sslWebSocket as number, kind: port },
  /** Idle timeout handed out in connAck, seconds; also the limit for a silent new socket. */
  TIMEOUT_SECONDS: { default: DEFAULT_TIMEOUT_SECONDS as number, kind: { type: 'int', min: 3, max: 86400 } },
  /** Largest packet accepted, bytes; a larger frame closes the connection. */
  MAX_PACKET_BYTES: { default: DEFAULT_MAX_PACKET_BYTES as number, kind: { type: 'int', min: 256, max: 64 * 1024 * 1024 } },
  /** Outbound bytes a connection may have waiting before QoS 0 pushes to it are dropped. */
  OUTBOUND_BUFFER_BYTES: { default: 8 * 1024 * 1024, kind: positive },
  /** How long a QoS 1 (client, pub id) is remembered to acknowledge a resend without distributing it twice, seconds. */
  QOS1_DEDUPE_SECONDS: { default: 60, kind: { type: 'int', min: 0, max: 86400 } },
  /** Longest channel name accepted, characters; a longer one is refused with 11. */
  MAX_CHANNEL_LENGTH: { default: 512, kind: { type: 'int', min: 16, max: 1024 } },
  /** Longest client id a session may have, characters (MySQL keys hold 255); also the longest an auth hook may hand out. */
  MAX_CLIENT_ID_LENGTH: { default: 128, kind: { type: 'int', min: 8, max: 255 } },
  /** Largest `auth` data (as JSON) and `conn` token accepted, bytes; larger ones are answered 10. */
  MAX_AUTH_BYTES: { default: 4096, kind: { type: 'int', min: 64, max: 1024 * 1024 } },
  /** Longest `pub` id accepted, characters; a longer one is answered 10 (a `pushAck` with one is ignored). */
  MAX_ID_LENGTH: { default: 128, kind: { type: 'int', min: 8, max: 4096 } },
  /** Subscriptions one client may hold, `#clientId` included; more are refused with 7. */
  MAX_SUBSCRIPTIONS_PER_CLIENT: { default: 1000, kind: positive },
  /** Open connections on all ports together; 0: the process's open-file limit less 512 kept for storage, logs and listeners. */
  MAX_CONNECTIONS: { default: 0, kind: { type: 'int', min: 0, max: 2 ** 31 - 1 } },
  /** Open connections from one remote address; 0: no limit. */
  MAX_CONNECTIONS_PER_ADDRESS: { default: 2000, kind: { type: 'int', min: 0, max: 2 ** 31 - 1 } },
  /** New connections one remote address may open per second (reconnect storms); 0: no limit. */
  CONNECTION_RATE_PER_ADDRESS: { default: 200, kind: { type: 'int', min: 0, max: 2 ** 31 - 1 } },
  /** Time allowed from socket open to a successful conn, seconds. */
  CONNECT_TIMEOUT_SECONDS: { default: 10, kind: { type: 'int', min: 1, max: 3600 } },
  /** QoS 1 copies kept for one subscriber; past it QUEUE_POLICY applies. */
  MAX_QUEUED_PER_CLIENT: { default: 10000, kind: positive },
  /**
   * `reject-publisher`: a publish that would overflow a subscriber's queue is refused with 0, so
   * nothing acknowledged is ever dropped; `drop-oldest`: the oldest copies make room (each eviction counted).
   */
  QUEUE_POLICY: { default: 'reject-publisher', kind: { type: 'enum', values: ['reject-publisher', 'drop-oldest'] } },
  /** Messages one client may publish per second (control requests included); over it the broker stops reading from it until the budget refills; 0: no limit. */
  PUBLISH_RATE_MESSAGES: { default: 50_000, kind: { type: 'int', min: 0, max: 2 ** 31 - 1 } },
  /** Bytes one client may publish per second, control answers included; throttled like PUBLISH_RATE_MESSAGES; 0: no limit. */
  PUBLISH_RATE_BYTES: { default: 32 * 1024 * 1024, kind: { type: 'int', min: 0, max: 2 ** 31 - 1 } },
  /** Persistent state (subscriptions, queued QoS 1 copies) of a client id unseen this long is removed, seconds, across restarts; 0: never. */
  SESSION_EXPIRY_SECONDS: { default: 7 * 86400, kind: { type: 'int', min: 0, max: 2 ** 31 - 1 } },
  /** Every TCP and WebSocket connection starts with a PROXY protocol v2 header (HAProxy `send-proxy-v2`) giving the real client address. */
  PROXY_PROTOCOL: { default: false, kind: flag },
  /** A subscriber over OUTBOUND_BUFFER_BYTES for this long is disconnected, seconds. */
  SLOW_CONSUMER_SECONDS: { default: 30, kind: { type: 'int', min: 1, max: 3600 } },
  /** Graceful drain (POST /api/drain, SIGUSR2): the node's sessions are closed spread evenly over this many seconds, then it exits 0. */
  DRAIN_SECONDS: { default: 30, kind: { type: 'int', min: 0, max: 3600 } },
  /** Bearer token for `/api` (except `/api/health`) and `/metrics`; empty: those answer loopback only. */
  ADMIN_TOKEN: { default: '', kind: text },
  /** How long the admin API's trace (GET /api/trace/:messageId) remembers a message, seconds. */
  TRACE_SECONDS: { default: 600, kind: { type: 'int', min: 1, max: 86400 } },
  /** Messages the trace remembers at most (oldest forgotten first); 0 turns tracing off. */
  TRACE_MAX_MESSAGES: { default: 100_000, kind: { type: 'int', min: 0, max: 10_000_000 } },
  /** Comma-separated origins allowed to open a WebSocket; empty: any. */
  WS_ALLOWED_ORIGINS: { default: '', kind: text },
  /** SQLite database file (embedded storage); its folder is created. */
  SQLITE_PATH: { default: 'data/jmqt.db', kind: text },
  /** SQLite durability: `full` syncs every commit to disk, `normal` survives a process crash only. */
  SQLITE_SYNC: { default: 'full', kind: { type: 'enum', values: ['full', 'normal'] } },
  /** HMAC secret of the tokens the broker issues in authAck (every AUTH_MODE); empty: generated once and kept beside the database. */
  AUTH_SECRET: { default: '', kind: text },
  /** Lifetime of a token issued in authAck, seconds (a JWT's `exp` shortens it). */
  TOKEN_TTL_SECONDS: { default: 86400, kind: positive },
  /**
   * How `auth` is judged (protocol 13.1): `sample` the sample application (any client may be any
   * client id); `password` PASSWORD_FILE; `jwt` a signed JWT; `http` an HTTP service at AUTH_HTTP_URL.
   */
  AUTH_MODE: { default: 'sample', kind: { type: 'enum', values: ['sample', 'password', 'jwt', 'http'] } },
  /** `clientId:scrypt-hash` lines (`npm run passwd`), for AUTH_MODE = password; re-read on SIGHUP and on change. */
  PASSWORD_FILE: { default: '', kind: text },
  /** HS256 secret of the JWTs clients send (AUTH_MODE = jwt); one of JWT_SECRET, JWT_PUBLIC_KEY_PATH, JWT_JWKS_URL. */
  JWT_SECRET: { default: '', kind: text },
  /** PEM public key (RSA: RS256, EC P-256: ES256) of the JWTs clients send (AUTH_MODE = jwt). */
  JWT_PUBLIC_KEY_PATH: { default: '', kind: text },
  /** URL of a JSON Web Key Set (RS256, ES256) of the JWTs clients send (AUTH_MODE = jwt); fetched within AUTH_HTTP_TIMEOUT_MS. */
  JWT_JWKS_URL: { default: '', kind: text },
  /** When set, a JWT's `aud` must contain it. */
  JWT_AUDIENCE: { default: '', kind: text },
  /** When set, a JWT's `iss` must be it. */
  JWT_ISSUER: { default: '', kind: text },
  /** The service AUTH_MODE = http POSTs every `auth` to (http: or https:). */
  AUTH_HTTP_URL: { default: '', kind: text },
  /** How long the authentication service (or the JWKS) may take to answer, ms; then authAck 5. */
  AUTH_HTTP_TIMEOUT_MS: { default: 3000, kind: { type: 'int', min: 100, max: 60_000 } },
  /** Password verifications (scrypt) or HTTP authentication calls in flight at once, broker-wide; more: authAck 5 "busy". */
  AUTH_MAX_PENDING: { default: 64, kind: { type: 'int', min: 1, max: 100_000 } },
  /** Access rules (protocol 13.6), any AUTH_MODE; empty: everything allowed. Re-read on SIGHUP and on change. */
  ACL_FILE: { default: '', kind: text },
  /** Built dashboard served at `/`. */
  DASHBOARD_PATH: { default: 'dist/client/browser', kind: text },
  /** This node's name in a cluster; empty: `jmqt-` and 8 random hex digits. */
  NODE_ID: { default: '', kind: text },
  /** Name of the cluster: the prefix of its Redis keys and channels, so clusters can share a Redis. */
  CLUSTER_NAME: { default: 'jmqt', kind: text },
  /** How long a node's claim on a client id lasts without renewal, seconds (cluster). */
  CLUSTER_LEASE_SECONDS: { default: 10, kind: { type: 'int', min: 1, max: 3600 } },
  /** 1: this node is part of a cluster whose nodes meet over Redis. */
  ENABLE_REDIS: { default: false, kind: flag },
  /** Redis server of the cluster (ENABLE_REDIS = 1). */
  REDIS_HOST: { default: '127.0.0.1', kind: text },
  /** Port of that Redis server. */
  REDIS_PORT: { default: 6379, kind: port },
  /** Redis database number of the cluster's keys. */
  REDIS_DB_INDEX: { default: 0, kind: { type: 'int', min: 0, max: 15 } },
  /** Password of that Redis server; empty: none. */
  REDIS_PASSWORD: { default: '', kind: text },
  /** 1: storage on MySQL or MariaDB instead of SQLite. */
  ENABLE_MYSQL: { default: false, kind: flag },
  /** MySQL server (ENABLE_MYSQL = 1). */
  MYSQL_HOST: { default: '127.0.0.1', kind: text },
  /** Port of that MySQL server. */
  MYSQL_PORT: { default: 3306, kind: port },
  /** MySQL user. */
  MYSQL_USER: { default: 'root', kind: text },
  /** That user's password. */
  MYSQL_PSWD: { default: '', kind: text },
  /** MySQL database; its tables are created. */
  MYSQL_DB: { default: 'jmqt', kind: text },
} as const satisfies Record<string, { default: string | number | boolean; kind: Kind }>;

type Schema = typeof schema;
type Widen<T> = T extends number ? number : T extends boolean ? boolean : string;
export type Config = { -readonly [K in keyof Schema]: Widen<Schema[K]['default']> };
export type ConfigKey = keyof Config;

export const configKeys = Object.keys(schema) as ConfigKey[];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The kind of a key's value (for `npm run config:sample`). */
export function keyKind(key: ConfigKey): Kind {
  return schema[key].kind;
}

export function defaultConfig(): Config {
  return Object.fromEntries(configKeys.map((key) => [key, schema[key].default])) as Config;
}

function isKey(key: string): key is ConfigKey {
  return Object.prototype.hasOwnProperty.call(schema, key);
}

function parseValue(key: ConfigKey, raw: string, origin: string): string | number | boolean {
  const kind: Kind = schema[key].kind;
  const value = raw.trim();
  switch (kind.type) {
    case 'string':
      return value;
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      throw new ConfigError(`${key} (${origin}): '${raw}' is not a flag; use 0 or 1`);
    case 'enum':
      if (kind.values.includes(value)) return value;
      throw new ConfigError(`${key} (${origin}): '${raw}' is not one of ${kind.values.join(', ')}`);
    case 'int': {
      const number = Number(value);
      if (value === '' || !Number.isInteger(number) || number < kind.min || number > kind.max) {
        throw new ConfigError(`${key} (${origin}): '${raw}' is not a whole number from ${kind.min} to ${kind.max}`);
      }
      return number;
    }
  }
}

/** Parses the original `server.conf` format: `KEY = value` lines, `#` comments, blank lines. */
export function parseConfigFile(content: string, origin: string): Partial<Config> {
  const result: Record<string, unknown> = {};
  content.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const where = `${origin}:${index + 1}`;
    const equals = trimmed.indexOf('=');
    if (equals < 0) throw new ConfigError(`${where}: expected KEY = value, got '${trimmed}'`);
    const key = trimmed.slice(0, equals).trim();
    if (!isKey(key)) throw new ConfigError(`${key} (${where}): unknown configuration key`);
    result[key] = parseValue(key, trimmed.slice(equals + 1), where);
  });
  return result as Partial<Config>;
}

/** Reads `JMQT_<KEY>` variables; an unknown `JMQT_` key is an error too, as it is surely a typo. */
export function configFromEnv(env: Record<string, string | undefined>): Partial<Config> {
  const result: Record<string, unknown> = {};
  // Not configuration: read by the tools around the broker.
  const ignored = new Set(['JMQT_CONFIG', 'JMQT_TEST_REQUIRE_SERVICES', 'JMQT_TEST_LOG', 'JMQT_FUZZ_SEED', 'JMQT_BENCH_PROFILE']);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('JMQT_') || raw === undefined || ignored.has(name)) continue;
    const key = name.slice('JMQT_'.length);
    if (!isKey(key)) throw new ConfigError(`${name}: unknown configuration key ${key}`);
    result[key] = parseValue(key, raw, `environment ${name}`);
  }
  return result as Partial<Config>;
}

/** The keys that belong to one AUTH_MODE: set under another mode they would be ignored, so they are refused. */
const modeKeys = {
  password: ['PASSWORD_FILE'],
  jwt: ['JWT_SECRET', 'JWT_PUBLIC_KEY_PATH', 'JWT_JWKS_URL', 'JWT_AUDIENCE', 'JWT_ISSUER'],
  http: ['AUTH_HTTP_URL'],
} as const satisfies Record<string, readonly ConfigKey[]>;

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Protocol 13.1: each AUTH_MODE has its keys, and no mode's keys are set for another. */
function validateAuthKeys(config: Config): void {
  const mode = config.AUTH_MODE;
  for (const [owner, keys] of Object.entries(modeKeys)) {
    if (owner === mode) continue;
    for (const key of keys) {
      if (config[key]) throw new ConfigError(`${key} is set, but AUTH_MODE is ${mode}: ${key} belongs to AUTH_MODE = ${owner}`);
    }
  }
  if (mode === 'password' && !config.PASSWORD_FILE) throw new ConfigError('PASSWORD_FILE: required when AUTH_MODE = password');
  if (mode === 'jwt') {
    const keys = (['JWT_SECRET', 'JWT_PUBLIC_KEY_PATH', 'JWT_JWKS_URL'] as const).filter((key) => config[key]);
    if (keys.length === 0) throw new ConfigError('JWT_SECRET, JWT_PUBLIC_KEY_PATH or JWT_JWKS_URL: one is required when AUTH_MODE = jwt');
    if (keys.length > 1) throw new ConfigError(`${keys.join(' and ')}: set only one of JWT_SECRET, JWT_PUBLIC_KEY_PATH, JWT_JWKS_URL`);
    if (config.JWT_JWKS_URL && !isHttpUrl(config.JWT_JWKS_URL)) throw new ConfigError(`JWT_JWKS_URL: '${config.JWT_JWKS_URL}' is not an http: or https: URL`);
  }
  if (mode === 'http') {
    if (!config.AUTH_HTTP_URL) throw new ConfigError('AUTH_HTTP_URL: required when AUTH_MODE = http');
    if (!isHttpUrl(config.AUTH_HTTP_URL)) throw new ConfigError(`AUTH_HTTP_URL: '${config.AUTH_HTTP_URL}' is not an http: or https: URL`);
  }
}

/** Checks the combination of keys, once every source is applied. */
export function validateConfig(config: Config): Config {
  if (config.ENABLE_SSL && (!config.SSL_CERT_PATH || !config.SSL_KEY_PATH)) {
    throw new ConfigError('SSL_CERT_PATH and SSL_KEY_PATH: both are required when ENABLE_SSL = 1');
  }
  validateAuthKeys(config);
  return config;
}

/** Defaults, then the file (`--config FILE` or `JMQT_CONFIG`), then `JMQT_<KEY>` variables. */
export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config {
  const flagAt = argv.indexOf('--config');
  const file = flagAt >= 0 ? argv[flagAt + 1] : env['JMQT_CONFIG'];
  if (flagAt >= 0 && !file) throw new ConfigError('--config needs a file name');
  let fromFile: Partial<Config> = {};
  if (file) {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`config file ${file}: ${(error as Error).message}`);
    }
    fromFile = parseConfigFile(content, file);
  }
  return validateConfig({ ...defaultConfig(), ...fromFile, ...configFromEnv(env) });
}
