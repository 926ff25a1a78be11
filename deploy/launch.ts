/**
 * Pieces shared by `scripts/cluster.ts` (a cluster by hand), the cluster
 * test harness and the cluster benchmark: the environment of one node,
 * HAProxy and redis-server as child processes, and HAProxy's view of its
 * servers (from its stats page as CSV).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface NodePorts {
  socket: number;
  webSocket: number;
  sslSocket?: number;
  sslWebSocket?: number;
}

export interface NodeEnvOptions {
  nodeId: string;
  ports: NodePorts;
  /** Shared by every node: a token issued by one must open a session on any other. */
  authSecret: string;
  mysql: { host?: string; port?: number; user?: string; password?: string; database: string };
  redis: { host?: string; port: number };
  clusterName: string;
  bind?: string;
  /** Folder of this node's files (SQLITE_PATH's folder; unused with MySQL, but kept off the working copy). */
  dir: string;
  ssl?: { cert: string; key: string };
  /** More `JMQT_<KEY>` variables; they win. */
  extra?: Record<string, string>;
}

/** The `JMQT_*` environment of one cluster node. */
export function nodeEnv(options: NodeEnvOptions): Record<string, string> {
  const { ports, mysql, redis } = options;
  const env: Record<string, string> = {
    JMQT_NODE_ID: options.nodeId,
    JMQT_BIND_ADDRESS: options.bind ?? '127.0.0.1',
    JMQT_SOCKET_PORT: String(ports.socket),
    JMQT_WEBSOCKET_PORT: String(ports.webSocket),
    JMQT_AUTH_SECRET: options.authSecret,
    JMQT_SQLITE_PATH: join(options.dir, 'jmqt.db'),
    JMQT_ENABLE_MYSQL: '1',
    JMQT_MYSQL_HOST: mysql.host ?? '127.0.0.1',
    JMQT_MYSQL_PORT: String(mysql.port ?? 3306),
    JMQT_MYSQL_USER: mysql.user ?? 'root',
    JMQT_MYSQL_PSWD: mysql.password ?? '',
    JMQT_MYSQL_DB: mysql.database,
    JMQT_ENABLE_REDIS: '1',
    JMQT_REDIS_HOST: redis.host ?? '127.0.0.1',
    JMQT_REDIS_PORT: String(redis.port),
    JMQT_CLUSTER_NAME: options.clusterName,
    // Behind a proxy on this host every connection comes from 127.0.0.1:
    // per-address limits would count all clients of the cluster as one.
    JMQT_MAX_CONNECTIONS_PER_ADDRESS: '0',
    JMQT_CONNECTION_RATE_PER_ADDRESS: '0',
  };
  if (options.ssl && ports.sslSocket !== undefined && ports.sslWebSocket !== undefined) {
    Object.assign(env, {
      JMQT_ENABLE_SSL: '1',
      JMQT_SSL_CERT_PATH: options.ssl.cert,
      JMQT_SSL_KEY_PATH: options.ssl.key,
      JMQT_SSL_SOCKET_PORT: String(ports.sslSocket),
      JMQT_SSL_WEBSOCKET_PORT: String(ports.sslWebSocket),
    });
  }
  return { ...env, ...options.extra };
}

/** Environment for a child broker: the parent's, minus every `JMQT_*` (the broker refuses unknown ones), plus `env`. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name, value]) => !name.startsWith('JMQT_') && value !== undefined)) as Record<string, string>;
  return { ...base, ...env };
}

/** The haproxy binary: $HAPROXY, /usr/sbin/haproxy, or `haproxy` on the PATH. */
export function haproxyBinary(): string {
  if (process.env['HAPROXY']) return process.env['HAPROXY'];
  return existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
}

export function redisServerBinary(): string {
  if (process.env['REDIS_SERVER']) return process.env['REDIS_SERVER'];
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
}

/** Whether a binary can be run at all (spawn error ENOENT otherwise). */
export function runnable(binary: string, args: string[] = ['-v']): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

export interface ChildHandle {
  child: ChildProcess;
  /** Everything it printed, last 64 KiB. */
  output(): string;
  /** Resolves with the exit code (or signal name) once it has exited. */
  exited: Promise<number | string | null>;
  /** Sends `signal`, waits up to `ms` for the exit, then SIGKILL. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<void>;
}

const OUTPUT_KEPT = 64 * 1024;

/** Spawns a helper process whose output is kept (bounded) for error messages. `echo` also prints it with a prefix. */
export function spawnChild(binary: string, args: string[], options: { env?: Record<string, string>; echo?: string; cwd?: string } = {}): ChildHandle {
  const child = spawn(binary, args, { env: options.env ?? childEnv({}), stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
  let output = '';
  let done = false;
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => { done = true; resolve(code ?? signal); });
    child.once('error', (error) => { done = true; output += `\n${error.message}`; resolve(null); });
  });
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-OUTPUT_KEPT);
    if (options.echo !== undefined) {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) process.stdout.write(`${options.echo}${line}\n`);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', ms = 10_000) => {
    if (done) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  };
  return { child, output: () => output, exited, stop };
}

export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false); });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it answers truthy; throws `what` after `ms`. */
export async function waitUntil<T>(check: () => T | Promise<T>, ms: number, what: string | (() => string), everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}${detail}`);
    }
    await sleep(everyMs);
  }
}

/** Waits until something accepts connections on `port`, failing early when `handle` exits. */
export async function waitAccepting(port: number, handle: ChildHandle, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  let exited: unknown;
  handle.exited.then((code) => { exited = code ?? 'error'; });
  while (!(await accepts(port))) {
    if (exited !== undefined) throw new Error(`${what} exited (${exited}): ${handle.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} does not accept on ${port} after ${ms} ms: ${handle.output()}`);
    await sleep(50);
  }
}

/** HAProxy in the foreground with `config` written to `dir/haproxy.cfg`; resolves once the stats page answers. */
export async function startHaproxy(config: string, dir: string, statsPort: number, echo?: string): Promise<ChildHandle> {
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const handle = spawnChild(haproxyBinary(), ['-f', file, '-db'], { echo });
  await waitAccepting(statsPort, handle, 'HAProxy');
  return handle;
}

/** redis-server without persistence on `port`, bound to 127.0.0.1, files in `dir`. */
export async function startRedisServer(port: number, dir: string): Promise<ChildHandle> {
  const handle = spawnChild(redisServerBinary(), [
    '--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no',
  ]);
  await waitAccepting(port, handle, 'redis-server');
  return handle;
}

/** A GET on 127.0.0.1: status and body (parsed when JSON). */
export function httpGet(port: number, path: string, timeoutMs = 3000): Promise<{ status: number; body: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => {
        let body: unknown = text;
        if ((response.headers['content-type'] ?? '').includes('json')) {
          try { body = JSON.parse(text); } catch { /* keep the text */ }
        }
        resolve({ status: response.statusCode ?? 0, body, text });
      });
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} on ${port}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** HAProxy's state of each server of `backend` (`UP`, `DOWN`, `MAINT`, `no check`…), from `GET /;csv` on the stats port. */
export async function haproxyServers(statsPort: number, backend: string): Promise<Map<string, string>> {
  const { status, text } = await httpGet(statsPort, '/;csv');
  if (status !== 200) throw new Error(`HAProxy stats answered ${status}`);
  const [header, ...rows] = text.split('\n').filter((line) => line.trim() !== '');
  const columns = header!.replace(/^# /, '').split(',');
  const [px, sv, st] = ['pxname', 'svname', 'status'].map((name) => columns.indexOf(name));
  const servers = new Map<string, string>();
  for (const row of rows) {
    const cells = row.split(',');
    if (cells[px!] === backend && cells[sv!] !== 'BACKEND' && cells[sv!] !== 'FRONTEND') servers.set(cells[sv!]!, cells[st!]!);
  }
  return servers;
}

/** Waits until HAProxy reports every server of `backend` in `wanted` (e.g. `{ node1: 'UP', node2: 'DOWN' }`). */
export async function waitForServers(statsPort: number, backend: string, wanted: Record<string, 'UP' | 'DOWN'>, ms = 15_000): Promise<void> {
  let last = new Map<string, string>();
  await waitUntil(async () => {
    last = await haproxyServers(statsPort, backend);
    // HAProxy writes "UP 1/2", "DOWN 1/2" while going from one to the other.
    return Object.entries(wanted).every(([name, state]) => last.get(name) === state);
  }, ms, () => `HAProxy to see ${JSON.stringify(wanted)} in ${backend}; it sees ${JSON.stringify(Object.fromEntries(last))}`, 100);
}
