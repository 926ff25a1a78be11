/**
 * The compiled broker (`npm run build:node` → dist/node) as a real child
 * process, `node dist/node/server/main.js` with `JMQT_*` variables, for the
 * tests of the production build: started on free ports, timed from spawn to
 * its "listening" line, measured (RSS from /proc), stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const compiledMain = 'dist/node/server/main.js';
export const compiledCli = 'dist/node/cli/jmqt/main.js';

export interface CompiledBroker {
  child: ChildProcess;
  output: () => string;
  /** Milliseconds from spawn to the "listening" log line. */
  startMs: number;
  exited: Promise<number | null>;
  /** Resident set size now, MB (VmRSS of /proc/<pid>/status). */
  rssMb(): number;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `node dist/node/server/main.js [args]` from the project root and waits for its "listening" line
 * (an INF line: JMQT_LOG_MODE must be DBG or INF). A broker that does not start within 20 s is killed.
 */
export async function startCompiledBroker(env: Record<string, string>, args: string[] = []): Promise<CompiledBroker> {
  if (/^(WRN|ERR)$/.test(env['JMQT_LOG_MODE'] ?? '')) throw new Error('startCompiledBroker waits for the INF "listening" line: leave JMQT_LOG_MODE at INF or DBG');
  const started = performance.now();
  const child = spawn(process.execPath, [compiledMain, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const startMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`compiled broker did not start within 20 s: ${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/broker listening/.test(output)) {
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`compiled broker exited with ${code}: ${output}`));
    });
  });
  return {
    child, startMs, exited,
    output: () => output,
    rssMb: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
