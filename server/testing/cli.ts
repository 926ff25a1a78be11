/**
 * The `jmqt` command as a child process for tests: from its TypeScript
 * source through tsx (default), or any other way given (the launcher, the
 * compiled dist/node/cli/jmqt/main.js). runCli waits for the exit;
 * startCli leaves it running, to wait for what it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { root } from './compiled';

export const fromSource = ['--import', 'tsx', 'cli/jmqt/main.ts'];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  ms: number;
}

export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when `pattern` appears on standard error (or output, with `stream`). */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', ms?: number): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], options: { input?: string; entry?: string[]; env?: Record<string, string> } = {}): RunningCli {
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.entry ?? fromSource), ...args], {
    cwd: root, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  const text = { stdout: '', stderr: '' };
  const listeners: Array<() => void> = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.on('data', (chunk: Buffer) => {
      text[stream] += chunk.toString();
      for (const listener of listeners) listener();
    });
  }
  child.stdin!.end(options.input ?? '');
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code) => resolve({ code, stdout: text.stdout, stderr: text.stderr, ms: performance.now() - started }));
  });
  return {
    child, done,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor: (pattern, stream = 'stderr', ms = 15_000) => new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(text[stream])) return;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => reject(new Error(`no ${pattern} on ${stream} within ${ms} ms; stdout: ${text.stdout}; stderr: ${text.stderr}`)), ms);
      listeners.push(check);
      done.then(() => {
        check();
        clearTimeout(timer);
        if (!pattern.test(text[stream])) reject(new Error(`exited without ${pattern} on ${stream}; stdout: ${text.stdout}; stderr: ${text.stderr}`));
      });
      check();
    }),
  };
}

export function runCli(args: string[], options: { input?: string; entry?: string[]; env?: Record<string, string> } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}
