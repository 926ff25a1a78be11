/** Runs `npm run server`'s entry point as a real child process, for crash and signal tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const mainFile = fileURLToPath(new URL('../main.ts', import.meta.url));

export { freePort } from '../../tools/wait';

export interface BrokerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Starts the broker with `JMQT_*` variables (JMQT_SOCKET_PORT required) and waits until it accepts connections. */
export async function spawnBroker(env: Record<string, string>): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const onData = (chunk: Buffer) => { output += chunk.toString(); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exitCode: number | null | undefined;
  exited.then((code) => { exitCode = code; });
  const deadline = Date.now() + 30_000;
  while (!(await accepts(Number(env['JMQT_SOCKET_PORT'])))) {
    if (exitCode !== undefined) throw new Error(`broker exited with ${exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`broker did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output, exited };
}
