/**
 * Aedes as a benchmark child process: aedes over node `net` on a free port
 * of 127.0.0.1, with aedes' default in-memory persistence (aedes-persistence)
 * and in-process mqemitter. Prints `READY {"socket":…,"pid":…}`; exits when
 * stdin closes (the runner died) or on SIGINT/SIGTERM.
 */
import { createServer, type AddressInfo } from 'node:net';
import Aedes from 'aedes';

const broker = new Aedes();
const server = createServer(broker.handle);
server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  process.stdout.write(`READY ${JSON.stringify({ socket: port, pid: process.pid })}\n`);
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 2000).unref();
  server.close();
  broker.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
