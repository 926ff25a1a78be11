/**
 * The JMQT broker as a benchmark child process: free ports on 127.0.0.1,
 * SQLite in the folder given as argv[2] with SQLITE_SYNC full, the idle
 * timeout at its maximum (idle sessions of the memory shape must stay), and
 * no per-address connection limits (all load comes from 127.0.0.1), and
 * the sample application's auth and token rules without its presence
 * announcements (they would push O(n²) `update` messages while thousands of
 * clients connect; `--sample-app` keeps them).
 * Prints one line `READY {"socket":…,"webSocket":…,"pid":…}`; exits when
 * stdin closes (the runner died) or on SIGINT/SIGTERM.
 */
import { join } from 'node:path';
import { createLogger } from '../server/log';
import { sampleApplication } from '../server/sample-app';
import { startServer } from '../server/server';
import { TokenSigner } from '../server/tokens';
import { Status } from '../shared/status';
import type { Application } from '../server/hooks';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: jmqt-server.ts <data folder> [--sample-app]\n');
  process.exit(2);
}
const log = createLogger('WRN', '');
const tokens = new TokenSigner('bench-secret', 86400);
const application: Partial<Application> = { ...sampleApplication(tokens, log) };
if (!process.argv.includes('--sample-app')) {
  application.validateConnection = (clientId, token) => (tokens.verify(token, clientId) ? Status.OK : Status.INVALID_TOKEN);
  delete application.onConnectionClose;
}

const server = await startServer({
  config: {
    SOCKET_PORT: 0,
    WEBSOCKET_PORT: 0,
    BIND_ADDRESS: '127.0.0.1',
    SQLITE_PATH: join(dir, 'jmqt.db'),
    SQLITE_SYNC: 'full',
    TIMEOUT_SECONDS: 86400,
    // Every benchmark client comes from 127.0.0.1: no per-address limits (the peers have none).
    MAX_CONNECTIONS_PER_ADDRESS: 0,
    CONNECTION_RATE_PER_ADDRESS: 0,
    LOG_MODE: 'WRN',
  },
  application,
  logger: log,
});
process.stdout.write(`READY ${JSON.stringify({ socket: server.ports.socket, webSocket: server.ports.webSocket, pid: process.pid })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3000).unref();
  server.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
