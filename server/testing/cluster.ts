/**
 * Cluster test harness: N broker nodes (real `server/main.ts` child
 * processes) sharing a fresh MariaDB database and a redis-server of their
 * own, behind a real HAProxy; and a protocol client that can reconnect
 * through HAProxy by itself, for failover tests.
 *
 * The machine's Redis is never touched: `startCluster` runs its own
 * redis-server on a free port, so a test may stop and restart it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { renderHaproxyConfig, type HaproxyFrontends } from '../../deploy/haproxy-config';
import {
  haproxyBinary, haproxyServers, httpGet, nodeEnv, proxyRelay, redisServerBinary, runnable, sleep, startHaproxy, startRedisServer,
  waitForServers, waitUntil, type ChildHandle, type NodePorts, type ProxyRelay,
} from '../../deploy/launch';
import { makeCertificate } from './certificate';
import { freePort, spawnBroker, type BrokerProcess } from './process';
import { serviceSkip, servicesRequired } from './services';

export { sleep, waitUntil } from '../../tools/wait';

const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
/** The HAProxy backend whose servers carry the health checks (the others track them). */
export const CHECKED_BACKEND = 'jmqt_socket';

/**
 * Why the cluster suites cannot run here (a skip reason), or false. MariaDB
 * on 3306, haproxy and redis-server are needed; with
 * JMQT_TEST_REQUIRE_SERVICES=1 a missing one throws instead.
 */
export async function clusterSkip(): Promise<string | false> {
  const mariadb = await serviceSkip('MariaDB', MYSQL.port);
  if (mariadb) return mariadb;
  for (const [name, binary, args] of [['haproxy', haproxyBinary(), ['-v']], ['redis-server', redisServerBinary(), ['--version']]] as const) {
    if (await runnable(binary, [...args])) continue;
    if (servicesRequired) throw new Error(`${name} (${binary}) is required (JMQT_TEST_REQUIRE_SERVICES=1) but cannot be run`);
    return `${name} not installed`;
  }
  return false;
}

export interface StartClusterOptions {
  /** Default 3. */
  nodes?: number;
  /** Also TLS on every node and the two passthrough frontends. Default false. */
  ssl?: boolean;
  /** More `JMQT_<KEY>` variables for every node. */
  env?: Record<string, string>;
  /** Nodes whose MariaDB connections go through a relay the test can cut (storage outage of one node). */
  mysqlRelay?: number[];
  /** Health check interval of HAProxy, ms. Default 1000. */
  checkIntervalMs?: number;
}

export interface ClusterNode {
  index: number;
  /** HAProxy server name and NODE_ID. */
  name: string;
  ports: NodePorts;
  /**
   * The nodes run with PROXY_PROTOCOL = 1 and destroy any connection that does
   * not start with a PROXY v2 header. A client that connects to this node
   * directly, past HAProxy, uses these ports: relays that send the header first
   * (with the client's address, as HAProxy's send-proxy-v2 does).
   */
  direct: { socket: number; webSocket: number };
  env: Record<string, string>;
  /** The running process; null while killed. */
  process: BrokerProcess | null;
}

export interface MysqlRelay {
  port: number;
  /** Closes every relayed connection and refuses new ones. */
  cut(): Promise<void>;
  restore(): Promise<void>;
}

export interface TestCluster {
  readonly nodes: ClusterNode[];
  readonly frontends: HaproxyFrontends;
  readonly statsPort: number;
  readonly redisPort: number;
  readonly database: string;
  readonly clusterName: string;
  /** Relays by node index (see `mysqlRelay`). */
  readonly relays: Map<number, MysqlRelay>;
  /** Sends `signal` (default SIGKILL) and waits for the exit; answers the exit code. */
  kill(index: number, signal?: NodeJS.Signals): Promise<number | null>;
  /** Waits up to `ms` for a node to exit by itself (a drain: POST /api/drain, SIGUSR2); answers the exit code. */
  exited(index: number, ms?: number): Promise<number | null>;
  /** Starts a killed (or exited) node again (same ports, same NODE_ID) and waits until HAProxy routes to it. */
  restart(index: number): Promise<void>;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  /** stopRedis, `downMs` of outage, startRedis. */
  restartRedis(downMs?: number): Promise<void>;
  /** Waits until HAProxy routes to every running node (and to no killed one). */
  waitRouted(ms?: number): Promise<void>;
  /** GET on a node's WebSocket port, straight to the node (a LOCAL PROXY header first). */
  get(index: number, path: string): Promise<{ status: number; body: any }>;
  /** Client ids with a session on each node, from each node's /api/clients (killed nodes: []). */
  clientsByNode(): Promise<string[][]>;
  /** Waits until every running node's subscription index has the same size (replication settled). */
  waitReplicated(ms?: number): Promise<number>;
  output(index: number): string;
  stop(): Promise<void>;
}

async function mysqlRelay(target: { host: string; port: number }): Promise<MysqlRelay> {
  const sockets = new Set<Socket>();
  const port = await freePort();
  let server: Server | null = null;
  const listen = () => new Promise<void>((resolve, reject) => {
    server = createServer((inbound) => {
      const outbound = tcpConnect(target.port, target.host);
      for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
        sockets.add(from);
        from.pipe(to);
        from.on('error', () => to.destroy());
        from.on('close', () => { sockets.delete(from); to.destroy(); });
      }
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  await listen();
  return {
    port,
    cut: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    }),
    restore: () => (server ? Promise.resolve() : listen()),
  };
}

/** First port of the range the system picks ports from (freePort() and every listen on port 0). */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * A PROXY relay to `port` on a port below the ephemeral range: freePort() hands
 * out ports that stay free until a node (or HAProxy, or a restarted node) binds
 * them, in this process or in a cluster suite running beside it; a relay on a
 * system-picked port could take one of those meanwhile.
 */
async function relayBelowEphemeral(port: number): Promise<ProxyRelay> {
  const top = ephemeralStart();
  const bottom = Math.max(1024, top - 12_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await proxyRelay({ port }, bottom + Math.floor(Math.random() * (top - bottom)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw error;
    }
  }
}

async function dropDatabase(database: string): Promise<void> {
  const connection = await createConnection({ ...MYSQL, connectTimeout: 3000 });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await connection.end();
  }
}

/** Starts Redis, the nodes and HAProxy; resolves once HAProxy routes to every node. */
export async function startCluster(options: StartClusterOptions = {}): Promise<TestCluster> {
  const count = options.nodes ?? 3;
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const database = `jmqt_cluster_${suffix}`;
  const clusterName = `jmqt-test-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-cluster-'));
  const secret = randomBytes(16).toString('hex');
  const certificate = options.ssl ? makeCertificate(dir) : undefined;
  const children = new Set<{ kill(signal: NodeJS.Signals): unknown }>();
  const killAll = () => { for (const child of children) child.kill('SIGKILL'); };
  process.once('exit', killAll);

  const relays = new Map<number, MysqlRelay>();
  const direct: ProxyRelay[] = [];
  let redis: ChildHandle | null = null;
  let haproxy: ChildHandle | null = null;
  const nodes: ClusterNode[] = [];
  const redisPort = await freePort();

  const stop = async () => {
    await haproxy?.stop('SIGTERM', 3000);
    await Promise.all(nodes.map(async (node) => {
      const running = node.process;
      if (!running) return;
      running.child.kill('SIGTERM');
      const timer = setTimeout(() => running.child.kill('SIGKILL'), 12_000);
      await running.exited;
      clearTimeout(timer);
    }));
    await redis?.stop('SIGTERM', 3000);
    await Promise.all([...relays.values()].map((relay) => relay.cut()));
    await Promise.all(direct.map((relay) => relay.close()));
    await dropDatabase(database).catch(() => undefined);
    process.removeListener('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    redis = await startRedisServer(redisPort, dir);
    children.add(redis.child);
    for (const index of options.mysqlRelay ?? []) relays.set(index, await mysqlRelay(MYSQL));
    for (let index = 0; index < count; index++) {
      const name = `node${index + 1}`;
      const ports: NodePorts = { socket: await freePort(), webSocket: await freePort() };
      if (options.ssl) Object.assign(ports, { sslSocket: await freePort(), sslWebSocket: await freePort() });
      const nodeDir = join(dir, name);
      mkdirSync(nodeDir);
      const env = nodeEnv({
        nodeId: name, ports, authSecret: secret, dir: nodeDir, clusterName,
        mysql: { ...MYSQL, port: relays.get(index)?.port ?? MYSQL.port, database },
        redis: { port: redisPort },
        ssl: certificate,
        // The per-address limits keep their defaults: every test client is at 127.0.0.1
        // (the PROXY header says so), yet the largest burst, 200 clients through
        // HAProxy's leastconn, puts about 67 on each node, well under
        // CONNECTION_RATE_PER_ADDRESS (200 a second per node) and
        // MAX_CONNECTIONS_PER_ADDRESS (2000). A test that opens more from one node
        // at once must raise them in `env`.
        extra: { JMQT_LOG_MODE: 'INF', ...options.env },
      });
      nodes.push({ index, name, ports, direct: { socket: 0, webSocket: 0 }, env, process: null });
    }
    await Promise.all(nodes.map(async (node) => {
      node.process = await spawnBroker(node.env);
      children.add(node.process.child);
    }));
    for (const node of nodes) {
      const relays = [await relayBelowEphemeral(node.ports.socket), await relayBelowEphemeral(node.ports.webSocket)] as const;
      direct.push(...relays);
      node.direct = { socket: relays[0].port, webSocket: relays[1].port };
    }

    const frontends: HaproxyFrontends = { socket: await freePort(), webSocket: await freePort() };
    if (options.ssl) Object.assign(frontends, { sslSocket: await freePort(), sslWebSocket: await freePort() });
    const statsPort = await freePort();
    const config = renderHaproxyConfig({
      nodes: nodes.map((node) => ({ name: node.name, host: '127.0.0.1', ...node.ports })),
      frontends, bind: '127.0.0.1', statsPort, maxConnections: 4000, checkIntervalMs: options.checkIntervalMs,
    });
    haproxy = await startHaproxy(config, dir, statsPort);
    children.add(haproxy.child);

    const running = () => nodes.filter((node) => node.process);
    const cluster: TestCluster = {
      nodes, frontends, statsPort, redisPort, database, clusterName, relays,
      async kill(index, signal = 'SIGKILL') {
        const node = nodes[index]!;
        const running = node.process;
        if (!running) throw new Error(`${node.name} is not running`);
        running.child.kill(signal);
        const code = await running.exited;
        node.process = null;
        children.delete(running.child);
        return code;
      },
      async exited(index, ms = 60_000) {
        const node = nodes[index]!;
        const running = node.process;
        if (!running) throw new Error(`${node.name} is not running`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const code = await Promise.race([running.exited, new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`${node.name} did not exit within ${ms} ms:\n${running.output().slice(-3000)}`)), ms);
        })]).finally(() => clearTimeout(timer));
        node.process = null;
        children.delete(running.child);
        return code;
      },
      async restart(index) {
        const node = nodes[index]!;
        if (node.process) throw new Error(`${node.name} is running`);
        node.process = await spawnBroker(node.env);
        children.add(node.process.child);
        await cluster.waitRouted();
      },
      async stopRedis() {
        await redis?.stop('SIGKILL', 3000);
        if (redis) children.delete(redis.child);
        redis = null;
      },
      async startRedis() {
        if (redis) return;
        redis = await startRedisServer(redisPort, dir);
        children.add(redis.child);
      },
      async restartRedis(downMs = 0) {
        await cluster.stopRedis();
        await sleep(downMs);
        await cluster.startRedis();
      },
      async waitRouted(ms = 15_000) {
        const wanted = Object.fromEntries(nodes.map((node) => [node.name, node.process ? 'UP' : 'DOWN'] as const));
        await waitForServers(statsPort, CHECKED_BACKEND, wanted, ms);
      },
      async get(index, path) {
        const answer = await httpGet(nodes[index]!.ports.webSocket, path, 3000, { proxy: true });
        return { status: answer.status, body: answer.body as any };
      },
      async clientsByNode() {
        return Promise.all(nodes.map(async (node) => {
          if (!node.process) return [];
          const { status, body } = await cluster.get(node.index, '/api/clients');
          if (status !== 200) throw new Error(`${node.name} /api/clients answered ${status}`);
          return (body.clients as Array<{ clientId: string }>).map((client) => client.clientId);
        }));
      },
      async waitReplicated(ms = 10_000) {
        let sizes: number[] = [];
        let previous = -1;
        // Equal on every node in two polls in a row: no replication was in flight.
        return waitUntil(async () => {
          sizes = await Promise.all(running().map(async (node) => (await cluster.get(node.index, '/api/stats')).body.subscriptions as number));
          const equal = sizes.every((size) => size === sizes[0]) ? sizes[0]! : -1;
          const settled = equal >= 0 && equal === previous;
          previous = equal;
          return settled ? equal + 1 : 0;
        }, ms, () => `equal subscription counts on every node; they are ${sizes.join(', ')}`, 150).then((size) => size - 1);
      },
      output: (index) => nodes[index]!.process?.output() ?? '',
      stop,
    };
    await cluster.waitRouted(20_000);
    return cluster;
  } catch (error) {
    const outputs = nodes.map((node) => `--- ${node.name}\n${node.process?.output().slice(-3000) ?? '(not started)'}`).join('\n');
    await stop().catch(() => undefined);
    (error as Error).message += `\n${outputs}\n--- haproxy\n${haproxy?.output() ?? ''}`;
    throw error;
  }
}

/** HAProxy's current state of each node (`UP`, `DOWN`, …). */
export async function routedNodes(cluster: TestCluster): Promise<Map<string, string>> {
  return haproxyServers(cluster.statsPort, CHECKED_BACKEND);
}

// ---------------------------------------------------------------- client

export * from './cluster-client';
