/**
 * `npm run bench`: JMQT, Mosquitto and Aedes side by side, each in its own
 * child process, driven by this one load generator with the same shapes.
 * Prints medians and JMQT's ratio to each peer, writes
 * bench/results/<date>.json and an SVG chart (<date>.svg and latest.svg).
 *
 *   tsx bench/run.ts [--quick] [--shape NAME]… [--repeats N] [--warmup S]
 *                    [--duration S] [--brokers jmqt,mosquitto,aedes]
 *                    [--memory-conns N] [--out DIR]
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protoFor, type BrokerKind } from './clients';
import { killAllSync, MOSQUITTO, startBroker, versionOf, type RunningBroker } from './brokers';
import { fanIn, fanOut, pairs, qos1, type Figures, type LoadShape, type Prepared, type Timing } from './load';
import { latency } from './latency';
import { measureMemory, type MemoryVariant } from './memory';
import { COLUMNS, medians, svg, table, type Column, type RunOutcome, type ShapeResult } from './report';

const here = dirname(fileURLToPath(import.meta.url));

const NOTES = [
  'Persistence: JMQT stores every QoS 1 message in SQLite (synchronous=FULL, commits batched per tick) before it sends the pubAck.',
  'Mosquitto runs with persistence off: messages live in memory (with persistence on it would still only save its database periodically, never per message).',
  "Aedes runs with its default in-memory persistence (aedes-persistence) and in-process mqemitter: nothing reaches a disk.",
  "JMQT runs the sample application's auth/token rules without its presence announcements on `update` (those are O(n²) pushes while thousands of clients connect); idle timeout 86400 s.",
  'One load generator process drives every broker over raw TCP (WebSocket only for the JMQT WebSocket memory figure); on a small machine it shares the cores with the broker, so the fastest broker may be held back by the generator (see generatorCpu in the JSON).',
  'Ratios are JMQT ÷ peer: above 1 is better for ↑ metrics, worse for ↓ metrics.',
];

/** A bad command line: printed without a stack. */
class UsageError extends Error {}

interface Options {
  quick: boolean;
  shapes: string[];
  repeats: number;
  timing: Timing;
  brokers: BrokerKind[];
  memoryConns: number;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: false, shapes: [], repeats: 3, timing: { warmupMs: 500, durationMs: 2000 }, brokers: ['jmqt', 'mosquitto', 'aedes'], memoryConns: 10_000, out: join(here, 'results') };
  let repeatsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    const number = () => {
      const parsed = Number(value());
      if (!Number.isFinite(parsed) || parsed <= 0) throw new UsageError(`${arg} needs a positive number`);
      return parsed;
    };
    switch (arg) {
      case '--quick': options.quick = true; break;
      case '--shape': options.shapes.push(...value().split(',')); break;
      case '--repeats': options.repeats = Math.round(number()); repeatsGiven = true; break;
      case '--warmup': options.timing.warmupMs = number() * 1000; break;
      case '--duration': options.timing.durationMs = number() * 1000; break;
      case '--memory-conns': options.memoryConns = Math.round(number()); break;
      case '--out': options.out = value(); break;
      case '--brokers': {
        const kinds = value().split(',');
        for (const kind of kinds) if (!COLUMNS.includes(kind as Column)) throw new UsageError(`unknown broker ${kind}; use jmqt, mosquitto, aedes`);
        options.brokers = kinds as BrokerKind[];
        break;
      }
      case '--help': case '-h':
        process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0] + '*/\n');
        process.exit(0);
        break;
      default: throw new UsageError(`unknown argument ${arg} (see --help)`);
    }
  }
  if (options.quick && !repeatsGiven) options.repeats = 1;
  return options;
}

const allShapes: LoadShape[] = [
  fanOut(100, 64), fanOut(100, 1024), fanOut(1000, 64), fanOut(1000, 1024),
  fanIn(100, 64), fanIn(100, 1024),
  pairs(100, 64), pairs(100, 1024),
  qos1(10, 10, 64),
  latency(10_000, 64),
];
const quickShapes = new Set(['fanout-1to100-64B', 'fanout-1to1000-1KiB', 'fanin-100to1-64B', 'p2p-100pairs-64B', 'qos1-10to10-64B', 'latency-10k-per-s-64B', 'memory']);
const MEMORY = 'memory';

function selected(name: string, options: Options): boolean {
  if (options.shapes.length > 0) return options.shapes.some((wanted) => name === wanted || name.startsWith(wanted));
  return !options.quick || quickShapes.has(name);
}

/** Open files this process may hold; each idle session needs one here and one in the broker. */
function openFileLimit(): number {
  const match = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !match || match[1] === 'unlimited' ? Infinity : Number(match[1]);
}

function mosquittoVersion(): string {
  const result = spawnSync(MOSQUITTO, ['-h'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${result.stdout}${result.stderr}`)?.[1] ?? 'unknown';
}

const log = (text: string) => process.stderr.write(text + '\n');
const fmtFigures = (figures: Figures) => Object.entries(figures).map(([key, value]) => `${key}=${Number.isInteger(value) ? value : value.toFixed(2)}`).join(' ');

function errorOf(error: unknown): { error: string } {
  return { error: error instanceof Error ? error.message : String(error) };
}

async function runLoadShapes(shapes: LoadShape[], options: Options, brokers: RunningBroker[]): Promise<ShapeResult[]> {
  const results: ShapeResult[] = [];
  for (const shape of shapes) {
    const started = Date.now();
    const result: ShapeResult = { name: shape.name, description: shape.description, metrics: shape.metrics, runs: {}, medians: {} };
    const prepared = new Map<RunningBroker, Prepared>();
    try {
      for (const broker of brokers) {
        try {
          prepared.set(broker, await shape.setup(protoFor(broker), broker));
        } catch (error) {
          result.runs[broker.kind] = [errorOf(error)];
          log(`[${shape.name}] ${broker.kind}: setup failed: ${errorOf(error).error}`);
        }
      }
      for (let repeat = 0; repeat < options.repeats; repeat++) {
        // Alternate: each repeat starts with the next broker.
        const order = brokers.map((_, i) => brokers[(i + repeat) % brokers.length]);
        for (const broker of order) {
          const ready = prepared.get(broker);
          if (!ready) continue;
          let outcome: RunOutcome;
          try {
            outcome = await ready.run(options.timing);
            log(`[${shape.name}] repeat ${repeat + 1} ${broker.kind}: ${fmtFigures(outcome)}`);
          } catch (error) {
            outcome = errorOf(error);
            log(`[${shape.name}] repeat ${repeat + 1} ${broker.kind}: failed: ${outcome.error}`);
          }
          (result.runs[broker.kind] ??= []).push(outcome);
        }
      }
    } finally {
      await Promise.all([...prepared.values()].map((ready) => ready.teardown().catch(() => undefined)));
    }
    for (const column of COLUMNS) {
      const figures = medians(result.runs[column] ?? []);
      if (figures) result.medians[column] = figures;
    }
    log(`[${shape.name}] done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    results.push(result);
  }
  return results;
}

async function runMemory(options: Options, brokerLogs: Record<string, string[]>): Promise<ShapeResult[]> {
  const limit = openFileLimit();
  let count = options.memoryConns;
  if (limit - 300 < count) {
    count = Math.max(100, limit - 300);
    log(`open files limit is ${limit} (ulimit -n): idle sessions reduced from ${options.memoryConns} to ${count}; raise it with 'ulimit -n ${options.memoryConns + 1000}' for the full figure`);
  }
  const label = count >= 1000 && count % 1000 === 0 ? `${count / 1000}k` : String(count);
  const tcp: ShapeResult = { name: `memory-idle-tcp-${label}`, description: `RSS growth of a fresh broker per idle TCP session, ${count} sessions (JMQT: auth + conn; MQTT: CONNECT, keep-alive 0)`, metrics: [{ key: 'perConnKiB', label: 'RSS per session', unit: 'KiB', higherIsBetter: false }], runs: {}, medians: {} };
  const ws: ShapeResult = { name: `memory-idle-ws-${label}`, description: `RSS growth of a fresh JMQT broker per idle WebSocket session, ${count} sessions`, metrics: tcp.metrics, runs: {}, medians: {} };
  const variants: Array<{ variant: MemoryVariant; column: Column; into: ShapeResult }> = [];
  for (const kind of options.brokers) {
    if (kind === 'jmqt') variants.push({ variant: 'jmqt-tcp', column: 'jmqt', into: tcp }, { variant: 'jmqt-ws', column: 'jmqt', into: ws });
    else variants.push({ variant: kind, column: kind, into: tcp });
  }
  // Memory figures vary little between repeats and each costs a fresh broker and 10k sessions: one repeat.
  for (const { variant, column, into } of variants) {
    let outcome: RunOutcome;
    try {
      outcome = await measureMemory(variant, count, (broker) => { brokerLogs[`${variant}-memory`] = broker.log; });
      log(`[memory] ${variant}: ${fmtFigures(outcome)}`);
    } catch (error) {
      outcome = errorOf(error);
      log(`[memory] ${variant}: failed: ${outcome.error}`);
    }
    (into.runs[column] ??= []).push(outcome);
  }
  for (const result of [tcp, ws]) {
    for (const column of COLUMNS) {
      const figures = medians(result.runs[column] ?? []);
      if (figures) result.medians[column] = figures;
    }
  }
  return options.brokers.includes('jmqt') ? [tcp, ws] : [tcp];
}

/** Mosquitto comes from Debian's package; a fresh machine gets it on the first run (as root). */
function ensureMosquitto(): void {
  if (existsSync(MOSQUITTO)) return;
  log(`bench: ${MOSQUITTO} is missing: installing Debian's mosquitto package`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'mosquitto']]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed; install mosquitto by hand or run with --brokers jmqt,aedes`);
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.brokers.includes('mosquitto')) ensureMosquitto();
  const began = Date.now();
  const date = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const shapes = allShapes.filter((shape) => selected(shape.name, options));
  const memory = selected(MEMORY, options);
  if (shapes.length === 0 && !memory) throw new UsageError(`no shape matches ${options.shapes.join(', ')}; shapes: ${[...allShapes.map((shape) => shape.name), MEMORY].join(', ')}`);
  log(`bench: ${shapes.length} load shapes${memory ? ' + memory' : ''}, ${options.repeats} repeat(s), ${options.timing.warmupMs / 1000} s warm-up + ${options.timing.durationMs / 1000} s measured, brokers ${options.brokers.join(', ')}; ${cpus().length} cores, open files limit ${openFileLimit()}`);

  const results: ShapeResult[] = [];
  const brokerLogs: Record<string, string[]> = {};
  if (shapes.length > 0) {
    const brokers: RunningBroker[] = [];
    try {
      for (const kind of options.brokers) {
        brokers.push(await startBroker(kind).catch((error: unknown) => {
          throw new Error(`${kind} did not start (leave it out with --brokers): ${errorOf(error).error}`);
        }));
      }
      log(`brokers: ${brokers.map((broker) => `${broker.kind} pid ${broker.pid} port ${broker.port}`).join(', ')}`);
      results.push(...await runLoadShapes(shapes, options, brokers));
    } finally {
      for (const broker of brokers) brokerLogs[broker.kind] = broker.log;
      await Promise.all(brokers.map((broker) => broker.stop()));
    }
  }
  if (memory) results.push(...await runMemory(options, brokerLogs));

  const seconds = (Date.now() - began) / 1000;
  const printed = table(results);
  process.stdout.write(`\n${printed}\n\n${NOTES.map((note) => `- ${note}`).join('\n')}\n- Medians of ${options.repeats} repeat(s); total ${seconds.toFixed(0)} s.\n`);
  for (const [name, lines] of Object.entries(brokerLogs)) {
    if (lines.length > 0) process.stdout.write(`\n${name} broker wrote ${lines.length} line(s), last: ${lines.slice(-3).join(' | ')}\n`);
  }

  mkdirSync(options.out, { recursive: true });
  const report = {
    date,
    command: process.argv.slice(2),
    options,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryGiB: totalmem() / 2 ** 30, node: process.version, openFilesLimit: openFileLimit() },
    versions: { jmqt: versionOf('jmqt'), mosquitto: mosquittoVersion(), aedes: versionOf('aedes') },
    notes: NOTES,
    totalSeconds: seconds,
    results,
    brokerLogs,
    table: printed,
  };
  const json = join(options.out, `${date}.json`);
  const chart = join(options.out, `${date}.svg`);
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(chart, svg(results, `JMQT vs Mosquitto ${report.versions.mosquitto} vs Aedes ${report.versions.aedes}`, `${date} · medians of ${options.repeats} repeat(s) · ${cpus().length} cores · bars scaled per row`));
  copyFileSync(chart, join(options.out, 'latest.svg'));
  process.stdout.write(`\nwrote ${json}\nwrote ${chart} (and latest.svg)\n`);
}

process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`\n${signal}: stopping the brokers`);
    killAllSync();
    process.exit(130);
  });
}

main().then(() => process.exit(0), (error: unknown) => {
  log(`bench failed: ${error instanceof UsageError ? error.message : error instanceof Error ? error.stack ?? error.message : String(error)}`);
  killAllSync();
  process.exit(1);
});
