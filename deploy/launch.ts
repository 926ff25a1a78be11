/**
 * Pieces shared by `scripts/cluster.ts` (a cluster by hand), the cluster
 * test harness and the cluster benchmark: the environment of one node,
 * HAProxy and redis-server as child processes, HAProxy's view of its
 * servers (from its stats page as CSV), and PROXY v2 headers for whatever
 * talks to a node directly.
 *
 *   npx tsx deploy/launch.ts health PORT…   GET /api/health on each node's WebSocket port, with a PROXY header
 */
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { childEnv, spawnChild, waitAccepting, type ChildHandle } from '../tools/process';
import { sleep, waitUntil } from '../tools/wait';

export { accepts, sleep, waitUntil } from '../tools/wait';
export { childEnv, runnable, spawnChild, waitAccepting, type ChildHandle } from '../tools/process';
import { pathToFileURL } from 'node:url';
import { Command, IPv4Address, IPv4ProxyAddress, IPv6Address, IPv6ProxyAddress, TransportProtocol, UnspecProxyAddress, V2ProxyProtocol } from 'proxy-protocol-js';

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
    // HAProxy (send-proxy-v2) starts every connection with a PROXY v2 header naming the
    // client's real address, so the per-address limits, logs and admin API see the
    // client, not the proxy, and keep their defaults. A node then destroys every
    // connection without that header: whatever talks to a node directly sends one
    // (httpGet with `proxy`, proxyRelay).
    JMQT_PROXY_PROTOCOL: '1',
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

/** The haproxy binary: $HAPROXY, /usr/sbin/haproxy, or `haproxy` on the PATH. */
export function haproxyBinary(): string {
  if (process.env['HAPROXY']) return process.env['HAPROXY'];
  return existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
}

export function redisServerBinary(): string {
  if (process.env['REDIS_SERVER']) return process.env['REDIS_SERVER'];
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
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

// ---------------------------------------------------------------- PROXY protocol v2

/**
 * The PROXY v2 header HAProxy's health checks send (`check-send-proxy`): LOCAL,
 * no addresses; a node takes the connection as coming from the socket's own
 * peer. For anything that talks to a node (PROXY_PROTOCOL = 1) directly.
 */
export function localProxyHeader(): Buffer {
  return Buffer.from(new V2ProxyProtocol(Command.LOCAL, TransportProtocol.UNSPEC, new UnspecProxyAddress()).build());
}

/** A PROXY v2 header for a TCP client at `source:sourcePort` (IPv4, or IPv6 in its usual notation), as `send-proxy-v2` writes it. */
export function proxyHeader(source: string, sourcePort: number, destination: string, destinationPort: number): Buffer {
  const v6 = (text: string) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
    const [head, tail] = (mapped ? `::ffff:0:0` : text).split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
    const bytes = groups.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]);
    if (mapped) bytes.splice(12, 4, ...mapped[1]!.split('.').map(Number));
    return IPv6Address.createFrom(bytes);
  };
  const v4 = (text: string) => IPv4Address.createFrom(text.split('.').map(Number));
  const address = source.includes(':') || destination.includes(':')
    ? new IPv6ProxyAddress(v6(source.includes(':') ? source : `::ffff:${source}`), sourcePort, v6(destination.includes(':') ? destination : `::ffff:${destination}`), destinationPort)
    : new IPv4ProxyAddress(v4(source), sourcePort, v4(destination), destinationPort);
  return Buffer.from(new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM, address).build());
}

export interface ProxyRelay {
  /** Where to connect instead of the node's port. */
  port: number;
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1 to `target` that starts each relayed connection with
 * the PROXY v2 header `send-proxy-v2` would write (the client's address and
 * port), as HAProxy does: for clients that connect to one node directly, past
 * HAProxy. A refused or closed target closes the client's connection.
 * `listenPort` 0: one the system picks.
 */
export async function proxyRelay(target: { host?: string; port: number }, listenPort = 0): Promise<ProxyRelay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host: target.host ?? '127.0.0.1', port: target.port });
    outbound.write(proxyHeader(inbound.remoteAddress ?? '127.0.0.1', inbound.remotePort ?? 0, inbound.localAddress ?? '127.0.0.1', target.port));
    for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
      sockets.add(from);
      from.setNoDelay(true);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => { sockets.delete(from); to.destroy(); });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A GET on 127.0.0.1 (`proxy`: a LOCAL PROXY v2 header first): status and body (parsed when JSON). */
export function httpGet(port: number, path: string, timeoutMs = 3000, options: { proxy?: boolean } = {}): Promise<HttpAnswer> {
  return httpRequest(port, 'GET', path, { timeoutMs, proxy: options.proxy });
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  text: string;
}

export interface HttpRequestOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A LOCAL PROXY v2 header before the request, for a node with PROXY_PROTOCOL = 1. */
  proxy?: boolean;
  /** Default 3000. */
  timeoutMs?: number;
}

/** One HTTP request to a broker's WebSocket port: status and body (parsed when JSON). */
export function httpRequest(port: number, method: string, path: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? 3000;
  return new Promise((resolve, reject) => {
    const createConnection = options.proxy
      ? () => {
        const socket = connect({ host, port });
        // Queued before the request, so it leaves first.
        socket.write(localProxyHeader());
        return socket;
      }
      : undefined;
    const headers: Record<string, string> = { host: `${host}:${port}` };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    const req = request({ host, port, method, path, headers, timeout: timeoutMs, createConnection }, (response) => {
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
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} on ${host}:${port}: no answer within ${timeoutMs} ms`)));
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [command, ...ports] = process.argv.slice(2);
  if (command !== 'health' || ports.length === 0 || ports.some((port) => !/^\d+$/.test(port))) {
    process.stderr.write('usage: npx tsx deploy/launch.ts health PORT…   (each node\'s WebSocket port)\n');
    process.exit(2);
  }
  let failed = false;
  for (const port of ports) {
    const answer = await httpGet(Number(port), '/api/health', 3000, { proxy: true }).catch((error: Error) => ({ status: 0, text: error.message }));
    failed ||= answer.status !== 200;
    process.stdout.write(`${port} ${answer.status} ${answer.text}\n`);
  }
  process.exit(failed ? 1 : 0);
}
