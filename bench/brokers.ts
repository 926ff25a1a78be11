/**
 * Starts the three brokers as child processes and keeps track of them, so
 * that every one is killed at the end, on error and on Ctrl-C. Also reads a
 * process's RSS and CPU time from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BrokerKind, Endpoint } from './clients';

const here = dirname(fileURLToPath(import.meta.url));
const READY_TIMEOUT_MS = 30_000;
export const MOSQUITTO = process.env['MOSQUITTO'] ?? '/usr/sbin/mosquitto';

export interface RunningBroker extends Endpoint {
  stop(): Promise<void>;
  /** Lines the broker wrote to stdout/stderr (warnings, errors). */
  log: string[];
}

const children = new Set<ChildProcess>();
/** Broker pids that are not a direct child (mosquitto under its sh wrapper). */
const grandchildren = new Set<number>();
const dirs = new Set<string>();

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Kills every child still running and deletes the temp folders (sync: safe in 'exit'). */
export function killAllSync(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch { /* already gone */ }
  }
  children.clear();
  for (const pid of grandchildren) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* already gone */ }
  }
  grandchildren.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function stopChild(child: ChildProcess, pid: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      grandchildren.delete(pid);
      return resolve();
    }
    const kill = setTimeout(() => {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      child.kill('SIGKILL');
    }, 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      children.delete(child);
      grandchildren.delete(pid);
      resolve();
    });
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    child.stdin?.end();
  });
}

/** Spawns `command`, collects output lines, resolves with the parsed `READY {…}` line. */
function spawnReady(kind: BrokerKind, command: string, args: string[]): Promise<{ child: ChildProcess; ready: Record<string, number>; log: string[] }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: join(here, '..') });
  children.add(child);
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${kind} did not start within ${READY_TIMEOUT_MS} ms: ${log.slice(-5).join(' | ')}`)), READY_TIMEOUT_MS);
    let done = false;
    const fail = (error: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const onLine = (line: string) => {
      if (!done && line.startsWith('READY ')) {
        done = true;
        clearTimeout(timer);
        const ready = JSON.parse(line.slice(6)) as Record<string, number>;
        if (ready['pid'] !== child.pid) grandchildren.add(ready['pid']);
        resolve({ child, ready, log });
        return;
      }
      if (line.trim() === '') return;
      log.push(line);
      if (log.length > 200) log.shift();
      if (process.env['BENCH_VERBOSE']) process.stderr.write(`[${kind}] ${line}\n`);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('error', (error) => fail(error));
    child.once('exit', (code, signal) => {
      children.delete(child);
      fail(new Error(`${kind} exited before it was ready (code ${code}, signal ${signal}): ${log.slice(-5).join(' | ')}`));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function waitForPort(port: number, pid: number, log: string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => {
        socket.destroy();
        if (!alive(pid)) reject(new Error(`the broker exited: ${log.slice(-3).join(' | ')}`));
        else if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startJmqt(): Promise<RunningBroker> {
  const dir = tempDir('jmqt-bench-');
  // JMQT_BENCH_PROFILE=<dir> writes a V8 CPU profile of the broker per start (see bench/README.md, "Profile").
  const profile = process.env['JMQT_BENCH_PROFILE'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['JMQT_BENCH_PROFILE']] : [];
  const { child, ready, log } = await spawnReady('jmqt', process.execPath, [...profile, '--import', 'tsx', join(here, 'jmqt-server.ts'), dir]);
  return { kind: 'jmqt', port: ready['socket'], wsPort: ready['webSocket'], pid: ready['pid'], log, stop: () => stopChild(child, ready['pid']) };
}

export async function startAedes(): Promise<RunningBroker> {
  const { child, ready, log } = await spawnReady('aedes', process.execPath, ['--import', 'tsx', join(here, 'aedes-server.ts')]);
  return { kind: 'aedes', port: ready['socket'], pid: ready['pid'], log, stop: () => stopChild(child, ready['pid']) };
}

/**
 * Mosquitto with its own config (never the system one on 1883): one listener
 * on a free port, anonymous, no persistence file. A small sh wrapper prints
 * mosquitto's pid and kills it once its stdin closes, so that it dies with
 * the runner even when the runner is killed outright.
 */
export async function startMosquitto(): Promise<RunningBroker> {
  const dir = tempDir('mosq-bench-');
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    // Mosquitto 2.0.11 (Debian) logs "Outgoing messages are being dropped" and drops QoS 1
    // deliveries with only ~100 queued for a client (its inflight/queue accounting; upstream
    // fixed inflight quota bugs in 2.0.13). The closed loop never queues near this: it only
    // keeps that spurious drop out of the figures.
    'max_queued_messages 100000',
    'log_dest stderr',
    // BENCH_MOSQUITTO_LOG=notice,all,… to see more (debugging); default: errors and warnings.
    ...(process.env['BENCH_MOSQUITTO_LOG'] ?? 'error,warning').split(',').map((type) => `log_type ${type}`),
    '',
  ].join('\n'));
  const script = 'trap "" INT; "$1" -c "$2" & echo "READY {\\"pid\\":$!}"; cat >/dev/null; kill $! 2>/dev/null; wait';
  const { child, ready, log } = await spawnReady('mosquitto', '/bin/sh', ['-c', script, 'sh', MOSQUITTO, config]);
  const stop = () => stopChild(child, ready['pid']);
  await waitForPort(port, ready['pid'], log).catch(async (error: unknown) => { await stop(); throw error; });
  return { kind: 'mosquitto', port, pid: ready['pid'], log, stop };
}

export function startBroker(kind: BrokerKind): Promise<RunningBroker> {
  return kind === 'jmqt' ? startJmqt() : kind === 'aedes' ? startAedes() : startMosquitto();
}

/** Resident set size of a process, bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** User + system CPU time of a process, seconds (assumes 100 clock ticks a second, as on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function versionOf(kind: BrokerKind): string {
  try {
    if (kind === 'aedes') return (JSON.parse(readFileSync(join(here, '..', 'node_modules', 'aedes', 'package.json'), 'utf8')) as { version: string }).version;
    if (kind === 'jmqt') return (JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch { /* fall through */ }
  return '';
}
