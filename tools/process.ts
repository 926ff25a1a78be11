/**
 * Child processes, shared by the tests, the deploy scripts and the
 * benchmarks: a clean environment for a child broker, spawning with bounded
 * kept output, and waiting for a child to accept connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accepts, sleep } from './wait';

/** Environment for a child broker: the parent's, minus every `JMQT_*` (the broker refuses unknown ones), plus `env`. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name, value]) => !name.startsWith('JMQT_') && value !== undefined)) as Record<string, string>;
  return { ...base, ...env };
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

