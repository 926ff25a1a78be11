/**
 * The broker under attack: `node --import tsx server/main.ts` as a child
 * process on free loopback ports, with a temporary SQLite file, TLS with a
 * certificate made for this run, default limits, and WRN logging into a
 * temporary file. A crash shows as the child exiting.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificate } from '../server/testing/certificate';
import { freePort, spawnBroker, type BrokerProcess } from '../server/testing/process';

export interface BrokerPorts {
  tcp: number;
  tls: number;
  ws: number;
  wss: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The fuzzer stopped it (after the run), as opposed to a crash. */
  expected: boolean;
}

export interface FuzzBroker {
  pid: number;
  ports: BrokerPorts;
  dir: string;
  logPath: string;
  /** Set once the process has exited. */
  exit: Exit | null;
  exited: Promise<Exit>;
  /** Standard output and error of the process (start-up messages, crash traces). */
  output(): string;
  /** The last lines of the broker's log file. */
  logTail(lines: number): string;
  /** SIGTERM, then waits up to `ms` for the exit (SIGKILL after that); removes the temporary folder. */
  stop(ms?: number): Promise<Exit>;
}

/** Ports the fuzzer must never touch: the defaults a real broker on this machine may hold. */
const RESERVED_PORTS = new Set([8010, 8011, 8012, 8013]);

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePort();
    if (!RESERVED_PORTS.has(port)) ports.add(port);
  }
  return [...ports];
}

export async function startBroker(): Promise<FuzzBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-fuzz-'));
  const { cert, key } = makeCertificate(dir);
  const [tcp, ws, tls, wss] = (await distinctFreePorts(4)) as [number, number, number, number];
  const logPath = join(dir, 'broker.log');
  const env: Record<string, string> = {
    JMQT_BIND_ADDRESS: '127.0.0.1',
    JMQT_SOCKET_PORT: String(tcp),
    JMQT_WEBSOCKET_PORT: String(ws),
    JMQT_ENABLE_SSL: '1',
    JMQT_SSL_CERT_PATH: cert,
    JMQT_SSL_KEY_PATH: key,
    JMQT_SSL_SOCKET_PORT: String(tls),
    JMQT_SSL_WEBSOCKET_PORT: String(wss),
    JMQT_SQLITE_PATH: join(dir, 'jmqt.db'),
    JMQT_LOG_MODE: 'WRN',
    JMQT_LOG_PATH: logPath,
  };
  // spawnBroker() merges its variables over process.env: a JMQT_* variable of
  // the caller's shell (JMQT_CONFIG above all) must not change the broker under test.
  for (const name of Object.keys(process.env)) if (name.startsWith('JMQT_')) delete process.env[name];
  let child: BrokerProcess;
  try {
    child = await spawnBroker(env);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopping = false;
  const broker: FuzzBroker = {
    pid: child.child.pid!,
    ports: { tcp, tls, ws, wss },
    dir,
    logPath,
    exit: null,
    exited: new Promise<Exit>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        broker.exit = { code, signal, expected: stopping };
        resolve(broker.exit);
      };
      if (child.child.exitCode !== null || child.child.signalCode !== null) done(child.child.exitCode, child.child.signalCode);
      else child.child.once('exit', done);
    }),
    output: child.output,
    logTail(lines) {
      try {
        return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    async stop(ms = 15_000) {
      stopping = true;
      if (!broker.exit) child.child.kill('SIGTERM');
      const timer = setTimeout(() => child.child.kill('SIGKILL'), ms);
      const exit = await broker.exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return exit;
    },
  };
  return broker;
}

