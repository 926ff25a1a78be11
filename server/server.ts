/**
 * Starts a broker with its listeners: the one entry point for main.ts, the
 * tests and embedding applications.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { defaultConfig, validateConfig, type Config } from './config';
import { withDefaults, type Application } from './hooks';
import { createLogger, type LogFormat, type Logger } from './log';
import { Broker, type Deployment } from './broker';
import { randomBytes } from 'node:crypto';
import { SqliteStorage } from './storage/sqlite';
import type { Storage } from './storage/storage';
import type { ClusterBus } from './cluster/bus';
import { ClusterRouter } from './cluster/cluster-router';
import type { Ownership } from './cluster/ownership';
import { QueueDepths, SharedQueueDepths } from './queue-depths';
import { LocalRouter } from './routing/local-router';
import { acceptSocket } from './transports/socket';
import { attachWebSocket } from './transports/websocket';
import { createListener, type Admission, type FrontDoor } from './transports/listener';
import { startTls } from './transports/tls';
import { lazyRequestListener } from './lazy-listener';
import { Drain, type DrainPlan } from './drain';
import { LIVE_EVENTS_PATH, liveEvents } from './http/events-live';

export interface ServerOptions {
  /** Overrides of the defaults; ports of 0 pick free ports. */
  config?: Partial<Config>;
  /** The eight hooks; those left out keep their safe defaults. */
  application?: Partial<Application>;
  logger?: Logger;
  /** Default: MySQL with ENABLE_MYSQL = 1, else SQLite at SQLITE_PATH. */
  storage?: Storage;
  /** Default: Redis with ENABLE_REDIS = 1, else a single node. */
  cluster?: { bus: ClusterBus; ownership: Ownership };
}

// MySQL and Redis are loaded only when configured: a single node on SQLite
// does not carry mysql2 and ioredis (about 13 MB of idle RSS).
async function createStorage(config: Config): Promise<Storage> {
  if (config.ENABLE_MYSQL) {
    const { MysqlStorage } = await import('./storage/mysql');
    return new MysqlStorage({ host: config.MYSQL_HOST, port: config.MYSQL_PORT, user: config.MYSQL_USER, password: config.MYSQL_PSWD, database: config.MYSQL_DB });
  }
  return new SqliteStorage({ path: config.SQLITE_PATH, synchronous: config.SQLITE_SYNC as 'full' | 'normal' });
}

async function redisCluster(config: Config, nodeId: string): Promise<{ bus: ClusterBus; ownership: Ownership }> {
  const [{ RedisBus }, { RedisOwnership }] = await Promise.all([import('./cluster/redis'), import('./cluster/redis-ownership')]);
  const redis = { host: config.REDIS_HOST, port: config.REDIS_PORT, db: config.REDIS_DB_INDEX, password: config.REDIS_PASSWORD, prefix: config.CLUSTER_NAME };
  return { bus: new RedisBus(nodeId, redis), ownership: new RedisOwnership(nodeId, redis, config.CLUSTER_LEASE_SECONDS * 1000) };
}

/** One node, or a node of a cluster over Redis (ENABLE_REDIS, or a bus and ownership handed in). */
async function createDeployment(config: Config, cluster: ServerOptions['cluster']): Promise<Deployment> {
  // Random rather than host name and process id: /api/health shows it to anyone.
  const nodeId = config.NODE_ID || `jmqt-${randomBytes(4).toString('hex')}`;
  if (!cluster && !config.ENABLE_REDIS) {
    return { router: (host) => new LocalRouter(nodeId, host.sessions), queueDepths: (storage) => new QueueDepths(storage) };
  }
  const { bus, ownership } = cluster ?? await redisCluster(config, nodeId);
  return { router: (host) => new ClusterRouter(host, bus, ownership), queueDepths: (storage) => new SharedQueueDepths(storage) };
}

export interface ListeningPorts {
  socket: number;
  webSocket: number;
  sslSocket?: number;
  sslWebSocket?: number;
}

export interface RunningServer {
  readonly config: Config;
  readonly broker: Broker;
  readonly ports: ListeningPorts;
  readonly log: Logger;
  /** Stops accepting, ends every session, closes storage. */
  close(): Promise<void>;
  /**
   * Stops taking new connections and sessions: the TCP listeners close, WebSocket
   * upgrades are answered 503; HTTP (health, API) keeps answering. For drain().
   */
  stopAccepting(): void;
  /** Graceful drain (server/drain.ts): answers the plan; a second call answers the drain under way. */
  drain(by: string): DrainPlan;
  /** Resolves once a drain has closed the server (storage written): time to exit. */
  readonly drained: Promise<void>;
}

/** HTTP timeouts, so that a slow or silent client holds an HTTP socket for seconds, not for ever. */
const HTTP_REQUEST_TIMEOUT_MS = 30_000;
const HTTP_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node checks those timeouts, ms (its default of 30 s would let a slowloris hold a socket that long). */
const HTTP_TIMEOUT_CHECK_MS = 1_000;

/**
 * An HTTP server that never listens: the listener hands it admitted sockets
 * (plain, or TLS ones for HTTPS). 'listening' starts Node's timeout checks.
 */
function createHttpHandler(app: RequestListener, config: Config, log: Logger): HttpServer {
  const server = createHttpServer({
    connectionsCheckingInterval: HTTP_TIMEOUT_CHECK_MS,
    headersTimeout: config.CONNECT_TIMEOUT_SECONDS * 1000,
    requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: HTTP_KEEP_ALIVE_TIMEOUT_MS,
  }, app);
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    log.debug(`HTTP client error: ${error.code ?? error.message}`);
    if (socket.writable && error.code === 'HPE_HEADER_OVERFLOW') socket.write('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    else if (socket.writable && error.code !== 'ECONNRESET' && error.code !== 'ERR_HTTP_REQUEST_TIMEOUT') socket.write('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  server.emit('listening');
  return server;
}

function listen(server: TcpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function stopAccepting(server: TcpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = validateConfig({ ...defaultConfig(), ...options.config });
  const log = options.logger ?? createLogger(config.LOG_MODE, config.LOG_PATH, config.LOG_FORMAT as LogFormat);
  const storage = options.storage ?? await createStorage(config);
  await storage.open();
  const broker = new Broker(config, storage, withDefaults(options.application ?? {}), log, await createDeployment(config, options.cluster));
  try {
    await broker.start();
  } catch (error) {
    await broker.stop().catch(() => undefined);
    await storage.close();
    throw error;
  }

  const doors: FrontDoor[] = [];
  const http: HttpServer[] = [];
  const host = config.BIND_ADDRESS;
  const drain = new Drain(config.DRAIN_SECONDS, log);
  // Express and the API are loaded at the first HTTP request (lazy-listener.ts).
  const app = lazyRequestListener(() => import('./http/app').then(({ createHttpApp }) => createHttpApp(broker, drain)), log);
  /** False once stopAccepting() ran (a drain). */
  let accepting = true;
  /** The TCP and TLS socket listeners, which carry no HTTP: a drain closes them at once. */
  const streamDoors: FrontDoor[] = [];
  const otherUpgrades = new Map([[LIVE_EVENTS_PATH, liveEvents(broker)]]);
  const admission: Admission = {
    admit: (address) => broker.admit(address),
    release: (address) => broker.release(address),
    socketError: (message) => log.debug(message),
    listenerError: (message) => log.warn(`listener: ${message}`),
  };
  const listenerOptions = { proxyProtocol: config.PROXY_PROTOCOL, headerTimeoutMs: config.CONNECT_TIMEOUT_SECONDS * 1000 };
  const door = (handoff: (socket: Socket, address: string) => void, stream = false) => {
    const created = createListener(admission, listenerOptions, handoff);
    doors.push(created);
    if (stream) streamDoors.push(created);
    return created.server;
  };
  const webSocketHandler = (protocol: 'WEB_SOCKET' | 'SSL_WEB_SOCKET') => {
    const server = createHttpHandler(app, config, log);
    attachWebSocket(broker, server, protocol, otherUpgrades, () => accepting);
    http.push(server);
    return server;
  };
  try {
    const plainHttp = webSocketHandler('WEB_SOCKET');
    const ports: ListeningPorts = {
      socket: await listen(door((socket, address) => acceptSocket(broker, socket, 'SOCKET', address), true), config.SOCKET_PORT, host),
      webSocket: await listen(door((socket) => {
        plainHttp.emit('connection', socket);
        // The listener leaves a socket paused after reading a PROXY header.
        socket.resume();
      }), config.WEBSOCKET_PORT, host),
    };
    if (config.ENABLE_SSL) {
      const tls = {
        context: createSecureContext({ cert: readFileSync(config.SSL_CERT_PATH), key: readFileSync(config.SSL_KEY_PATH) }),
        handshakeTimeoutMs: config.CONNECT_TIMEOUT_SECONDS * 1000,
        onError: (message: string) => log.debug(message),
      };
      const secureHttp = webSocketHandler('SSL_WEB_SOCKET');
      ports.sslSocket = await listen(door((socket, address) => startTls(socket, address, tls, (secured) => acceptSocket(broker, secured, 'SSL_SOCKET', address)), true), config.SSL_SOCKET_PORT, host);
      ports.sslWebSocket = await listen(door((socket, address) => startTls(socket, address, tls, (secured) => secureHttp.emit('connection', secured))), config.SSL_WEBSOCKET_PORT, host);
    }
    const release = () => {
      for (const server of http) server.close();
      for (const created of doors) created.destroyAll();
    };
    let closing: Promise<void> | null = null;
    const running: RunningServer = {
      config, broker, ports, log,
      close: () => (closing ??= (async () => {
        const stopped = Promise.all(doors.map((created) => stopAccepting(created.server)));
        await broker.stop();
        release();
        await stopped;
        await storage.close();
      })()),
      stopAccepting: () => {
        accepting = false;
        // Not awaited: close() waits for the connections, which the drain ends later.
        for (const created of streamDoors) if (created.server.listening) created.server.close();
      },
      drain: (by) => drain.start(by),
      drained: drain.finished,
    };
    drain.attach({ nodeId: broker.router.nodeId, stopAccepting: running.stopAccepting, sessions: () => broker.sessions.values(), close: running.close });
    return running;
  } catch (error) {
    await Promise.all(doors.map((created) => stopAccepting(created.server)));
    for (const server of http) server.close();
    for (const created of doors) created.destroyAll();
    await broker.stop();
    await storage.close();
    throw error;
  }
}
