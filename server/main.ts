/**
 * `npm run server`: configuration → authentication and access control
 * (AUTH_MODE, ACL_FILE; the sample application by default) → storage →
 * broker → listeners.
 */
import { dirname, join } from 'node:path';
import { authenticationFromConfig, type Authentication } from './auth/mode';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type LogFormat } from './log';
import { startServer } from './server';
import { loadOrCreateSecret, TokenSigner } from './tokens';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.LOG_MODE, config.LOG_PATH, config.LOG_FORMAT as LogFormat);
  const secret = loadOrCreateSecret(config.AUTH_SECRET, join(dirname(config.SQLITE_PATH), 'auth-secret'));
  let auth: Authentication;
  try {
    auth = authenticationFromConfig(config, log, new TokenSigner(secret, config.TOKEN_TTL_SECONDS));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`configuration error: ${error.message}\n`);
    await log.close();
    process.exit(2);
  }
  const server = await startServer({ config, logger: log, application: auth.application }).catch((error: Error) => {
    auth.close();
    throw error;
  });
  const { ports } = server;
  if (config.AUTH_MODE === 'sample') {
    log.warn('the sample application is running: it gives any client a token for any client id it names, so any client can read and acknowledge ' +
      "another client's messages. It is a demo, not access control: set AUTH_MODE (password, jwt or http) for a broker others can reach.");
  }
  log.info(auth.summary);
  log.info(`JMQT broker listening: socket ${ports.socket}, websocket ${ports.webSocket}` +
    (ports.sslSocket ? `, ssl socket ${ports.sslSocket}, ssl websocket ${ports.sslWebSocket}` : '') +
    `; storage ${config.ENABLE_MYSQL ? `MySQL ${config.MYSQL_HOST}:${config.MYSQL_PORT}/${config.MYSQL_DB}` : `SQLite ${config.SQLITE_PATH}`}` +
    (config.ENABLE_REDIS ? `; cluster '${config.CLUSTER_NAME}' over Redis ${config.REDIS_HOST}:${config.REDIS_PORT} as node ${server.broker.router.nodeId}` : '') +
    `; dashboard http://localhost:${ports.webSocket}/; pid ${process.pid} (SIGUSR2 or POST /api/drain drains it)`);

  const shutdown = (signal: string) => {
    log.info(`${signal} received: shutting down`);
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    auth.close();
    server.close().then(() => log.close()).then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  // Graceful drain (server/drain.ts), by SIGUSR2 or POST /api/drain: exit 0 once storage is written.
  process.on('SIGUSR2', () => server.drain('SIGUSR2'));
  server.drained.then(() => {
    auth.close();
    return log.close();
  }).then(() => process.exit(0), () => process.exit(1));
}

main().catch((error: Error) => {
  process.stderr.write(`JMQT broker failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
