/**
 * Starts a broker with its listeners: the one entry point for main.ts, the
 * tests and embedding applications.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { defaultConfig, validateConfig, type Config } from './config';
import { withDefaults, type Application } from './hooks';
import { createLogger, type Logger } from './log';
import { Broker } from './broker';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { SqliteStorage } from './storage/sqlite';
import { MysqlStorage } from './storage/mysql';
import type { Storage } from './storage/storage';
import type { ClusterBus } from './cluster/bus';
import { LocalBus } from './cluster/local';
import { RedisBus } from './cluster/redis';
import { LocalOwnership, type Ownership } from './cluster/ownership';
import { RedisOwnership } from './cluster/redis-ownership';
import { acceptSocket } from './transports/socket';
import { attachWebSocket } from './transports/websocket';
import { createHttpApp } from './http/app';

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

function createStorage(config: Config): Storage {
  if (config.ENABLE_MYSQL) {
    return new MysqlStorage({ host: config.MYSQL_HOST, port: config.MYSQL_PORT, user: config.MYSQL_USER, password: config.MYSQL_PSWD, database: config.MYSQL_DB });
  }
  return new SqliteStorage({ path: config.SQLITE_PATH, synchronous: config.SQLITE_SYNC as 'full' | 'normal' });
}

function createCluster(config: Config): { bus: ClusterBus; ownership: Ownership; enabled: boolean } {
  const nodeId = config.NODE_ID || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (!config.ENABLE_REDIS) return { bus: new LocalBus(nodeId), ownership: new LocalOwnership(), enabled: false };
  const redis = { host: config.REDIS_HOST, port: config.REDIS_PORT, db: config.REDIS_DB_INDEX, password: config.REDIS_PASSWORD, prefix: config.CLUSTER_NAME };
  return {
    bus: new RedisBus(nodeId, redis),
    ownership: new RedisOwnership(nodeId, redis, config.CLUSTER_LEASE_SECONDS * 1000),
    enabled: true,
  };
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
}

type Listener = TcpServer | HttpServer;

function listen(server: Listener, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeListener(server: Listener): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if ('closeAllConnections' in server) server.closeAllConnections();
  });
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = validateConfig({ ...defaultConfig(), ...options.config });
  const log = options.logger ?? createLogger(config.LOG_MODE, config.LOG_PATH);
  const storage = options.storage ?? createStorage(config);
  await storage.open();
  const cluster = options.cluster ? { ...options.cluster, enabled: true } : createCluster(config);
  const broker = new Broker(config, storage, withDefaults(options.application ?? {}), log, cluster);
  try {
    await broker.start();
  } catch (error) {
    await broker.stop().catch(() => undefined);
    await storage.close();
    throw error;
  }

  const listeners: Listener[] = [];
  const host = config.BIND_ADDRESS;
  const app = createHttpApp(broker);
  try {
    const tcp = createTcpServer((socket) => acceptSocket(broker, socket, 'SOCKET'));
    listeners.push(tcp);
    const http = createHttpServer(app);
    attachWebSocket(broker, http, 'WEB_SOCKET');
    listeners.push(http);
    const ports: ListeningPorts = {
      socket: await listen(tcp, config.SOCKET_PORT, host),
      webSocket: await listen(http, config.WEBSOCKET_PORT, host),
    };
    if (config.ENABLE_SSL) {
      const credentials = { cert: readFileSync(config.SSL_CERT_PATH), key: readFileSync(config.SSL_KEY_PATH) };
      const tls = createTlsServer(credentials, (socket) => acceptSocket(broker, socket, 'SSL_SOCKET'));
      tls.on('tlsClientError', (error) => log.debug(`TLS handshake failed: ${error.message}`));
      listeners.push(tls);
      const https = createHttpsServer(credentials, app);
      attachWebSocket(broker, https, 'SSL_WEB_SOCKET');
      listeners.push(https);
      ports.sslSocket = await listen(tls, config.SSL_SOCKET_PORT, host);
      ports.sslWebSocket = await listen(https, config.SSL_WEBSOCKET_PORT, host);
    }
    let closing: Promise<void> | null = null;
    return {
      config, broker, ports, log,
      close: () => (closing ??= (async () => {
        const stopped = Promise.all(listeners.map(closeListener));
        await broker.stop();
        await stopped;
        await storage.close();
        await (cluster.ownership as { close?: () => Promise<void> }).close?.();
      })()),
    };
  } catch (error) {
    await Promise.all(listeners.filter((server) => server.listening).map(closeListener));
    await broker.stop();
    await storage.close();
    throw error;
  }
}
