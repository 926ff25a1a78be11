/**
 * Test harness for the configured authentication modes and access rules
 * (protocol 13): a real broker on free ports, its application built from the
 * configuration as main.ts builds it, and every log line kept for the test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticationFromConfig, type Authentication } from '../auth/mode';
import { defaultConfig, validateConfig, type Config } from '../config';
import type { Logger } from '../log';
import { startServer, type RunningServer } from '../server';
import { TokenSigner } from '../tokens';
import { RawClient, TEST_SECRET } from './harness';

export interface AuthBroker extends RunningServer {
  dir: string;
  auth: Authentication;
  /** Every line logged so far, `LEVEL message`. */
  lines: string[];
  destroy(): Promise<void>;
}

/** A logger that keeps its lines (and prints them with JMQT_TEST_LOG set). */
export function captureLogger(lines: string[]): Logger {
  const write = (level: string) => (message: string) => {
    lines.push(`${level} ${message}`);
    if (process.env['JMQT_TEST_LOG']) process.stdout.write(`${level} ${message}\n`);
  };
  return { debug: write('DBG'), info: write('INF'), warn: write('WRN'), error: write('ERR'), close: async () => undefined };
}

/** A fresh folder for a test's files; `files` are written into it. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-auth-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** A broker with the application AUTH_MODE and ACL_FILE ask for; `dir` is deleted by destroy(). */
export async function startAuthBroker(config: Partial<Config>, dir = tempDir()): Promise<AuthBroker> {
  const lines: string[] = [];
  const log = captureLogger(lines);
  const full = validateConfig({
    ...defaultConfig(),
    SOCKET_PORT: 0, WEBSOCKET_PORT: 0, BIND_ADDRESS: '127.0.0.1', SQLITE_PATH: join(dir, 'jmqt.db'), SQLITE_SYNC: 'normal',
    AUTH_SECRET: TEST_SECRET, ...config,
  });
  const auth = authenticationFromConfig(full, log, new TokenSigner(full.AUTH_SECRET, full.TOKEN_TTL_SECONDS));
  const server = await startServer({ config: full, application: auth.application, logger: log });
  return Object.assign(server, {
    dir, auth, lines,
    destroy: async () => {
      auth.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Opens a TCP client and sends `auth` with `dt`; answers the client, what was sent and the authAck. */
export async function authenticate(broker: RunningServer, dt: unknown): Promise<{ client: RawClient; sent: Record<string, unknown>; ack: Record<string, unknown> }> {
  const client = await RawClient.open('tcp', broker.ports.socket);
  const sent = { auth: { dt } };
  const ack = await client.request(sent, 'authAck');
  return { client, sent, ack };
}

/** auth with `dt`, then conn with what authAck gave; throws unless both are 1. */
export async function signIn(broker: RunningServer, dt: unknown): Promise<RawClient> {
  const { client, ack } = await authenticate(broker, dt);
  if (ack['st'] !== 1) throw new Error(`auth failed: ${JSON.stringify(ack)}`);
  const connAck = await client.request({ conn: { at: ack['at'], cl: ack['cl'] } }, 'connAck');
  if (connAck['st'] !== 1) throw new Error(`conn failed: ${JSON.stringify(connAck)}`);
  return client;
}

/** The packet pair as the wire carried it, for a test's diagnostic line. */
export function wire(sent: unknown, received: unknown): string {
  return `wire: → ${JSON.stringify(sent)}  ← ${JSON.stringify(received)}`;
}
