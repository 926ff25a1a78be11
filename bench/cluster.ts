/**
 * `npx tsx bench/cluster.ts`: throughput of a 3-node cluster (MariaDB
 * storage, Redis bus) through HAProxy against one single node with the
 * same storage and no bus, under the same load from this one process:
 * QoS 0 fan-out 1→100 and QoS 1 10→10 (the shapes of bench/load.ts).
 *
 *   npx tsx bench/cluster.ts [--nodes 3] [--warmup S] [--duration S] [--repeats N]
 *
 * Both sides run `server/main.ts` (the sample application) as child
 * processes; the cluster gets its own redis-server and both get a fresh
 * MariaDB database, dropped at the end (server/testing/cluster.ts). Needs
 * MariaDB on 127.0.0.1:3306 (root, no password), redis-server and haproxy.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { protoFor } from './clients';
import { cpuSeconds } from './brokers';
import { fanOut, qos1, type Figures, type LoadShape } from './load';
import { httpGet, nodeEnv } from '../deploy/launch';
import { startCluster, type TestCluster } from '../server/testing/cluster';
import { freePort, spawnBroker, type BrokerProcess } from '../server/testing/process';

interface Target {
  name: string;
  /** Where the load generator connects. */
  port: number;
  /** Every process of the target, for its CPU figure. */
  pids(): number[];
  /** WebSocket (API) port of every node, for their counters. */
  apiPorts: number[];
  /** The nodes run with PROXY_PROTOCOL = 1 (behind HAProxy): a direct request sends a PROXY header first. */
  apiProxy: boolean;
  stop(): Promise<void>;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const log = (line: string) => process.stderr.write(`${line}\n`);

async function singleNode(): Promise<Target> {
  const database = `jmqt_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-bench-single-'));
  const ports = { socket: await freePort(), webSocket: await freePort() };
  const env = nodeEnv({
    nodeId: 'single', ports, authSecret: randomBytes(16).toString('hex'), dir, clusterName: database,
    mysql: { database }, redis: { port: 6379 },
    // No HAProxy in front of this one: the load generator connects directly, without a PROXY header.
    extra: { JMQT_ENABLE_REDIS: '0', JMQT_LOG_MODE: 'WRN', JMQT_PROXY_PROTOCOL: '0' },
  });
  const broker: BrokerProcess = await spawnBroker(env);
  return {
    name: '1 node',
    port: ports.socket,
    pids: () => [broker.child.pid!],
    apiPorts: [ports.webSocket],
    apiProxy: false,
    async stop() {
      broker.child.kill('SIGTERM');
      await broker.exited;
      const connection = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function cluster(nodes: number): Promise<Target> {
  const running: TestCluster = await startCluster({ nodes, env: { JMQT_LOG_MODE: 'WRN' } });
  return {
    name: `${nodes} nodes + HAProxy`,
    port: running.frontends.socket,
    // The nodes only: HAProxy and Redis are counted apart (see the notes).
    pids: () => running.nodes.map((node) => node.process!.child.pid!),
    apiPorts: running.nodes.map((node) => node.ports.webSocket),
    apiProxy: true,
    stop: () => running.stop(),
  };
}

/** Runs `shape` on `target` `repeats` times; medians of deliveries/s and of the target's CPU %. */
interface Outcome {
  rate: number;
  cpu: number;
  /** Deliveries that never came (QoS 0: dropped; QoS 1: mostly publishes refused, which make none). */
  lost: number;
  /** QoS 1 publishes answered with a status other than 1. */
  refused: number;
}

async function measure(shape: LoadShape, target: Target, timing: { warmupMs: number; durationMs: number }, repeats: number): Promise<Outcome> {
  const proto = protoFor({ kind: 'jmqt', port: target.port, pid: target.pids()[0]! });
  const prepared = await shape.setup(proto, { kind: 'jmqt', port: target.port, pid: target.pids()[0]! });
  const rates: number[] = [];
  const cpu: number[] = [];
  let lost = 0;
  let refused = 0;
  try {
    for (let run = 0; run < repeats; run++) {
      const before = target.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
      const started = performance.now();
      const figures: Figures = await prepared.run(timing);
      const seconds = (performance.now() - started) / 1000;
      const after = target.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
      rates.push(figures['deliveries']!);
      cpu.push((100 * (after - before)) / seconds);
      lost += figures['lost'] ?? 0;
      refused += figures['refused'] ?? 0;
      log(`  ${shape.name} on ${target.name}: ${Math.round(figures['deliveries']!)} deliveries/s${figures['lost'] ? `, ${figures['lost']} lost` : ''}${figures['refused'] ? `, ${figures['refused']} publishes refused` : ''}`);
    }
  } finally {
    await prepared.teardown();
  }
  return { rate: median(rates), cpu: median(cpu), lost, refused };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      duration: { type: 'string', default: '3' },
      repeats: { type: 'string', default: '1' },
    },
  });
  const nodes = Number(values.nodes);
  const timing = { warmupMs: Number(values.warmup) * 1000, durationMs: Number(values.duration) * 1000 };
  const repeats = Number(values.repeats);
  const shapes = [fanOut(100, 64), qos1(10, 10, 64)];
  const results = new Map<string, Map<string, Outcome>>();
  const limitNotes: string[] = [];

  for (const start of [() => singleNode(), () => cluster(nodes)]) {
    const target = await start();
    log(`${target.name}: started`);
    try {
      for (const shape of shapes) {
        const row = results.get(shape.name) ?? new Map();
        row.set(target.name, await measure(shape, target, timing, repeats));
        results.set(shape.name, row);
      }
      // A limit hit changes what was measured (MAX_QUEUED_PER_CLIENT drops or refuses QoS 1 copies): say so.
      for (const [index, port] of target.apiPorts.entries()) {
        const hits = ((await httpGet(port, '/api/stats', 3000, { proxy: target.apiProxy })).body as { counters: { limitHits: Record<string, number> } }).counters.limitHits;
        for (const [key, count] of Object.entries(hits)) limitNotes.push(`${target.name}, node ${index + 1}: limit ${key} hit ${count} times.`);
      }
    } finally {
      await target.stop();
    }
  }

  const names = ['1 node', `${nodes} nodes + HAProxy`];
  const rows = [...results].map(([shape, row]) => {
    const [single, many] = names.map((name) => row.get(name)!);
    return [
      shape,
      `${Math.round(single!.rate).toLocaleString('en-US')}`,
      `${Math.round(many!.rate).toLocaleString('en-US')}`,
      (many!.rate / single!.rate).toFixed(2),
      `${Math.round(single!.cpu)} / ${Math.round(many!.cpu)}`,
    ];
  });
  const header = ['shape (deliveries/s)', names[0]!, names[1]!, 'ratio', 'broker CPU % (1 / all nodes)'];
  const notes = [...results].flatMap(([shape, row]) => [...row].filter(([, outcome]) => outcome.lost || outcome.refused)
    .map(([name, outcome]) => `${shape} on ${name}: ${outcome.lost} deliveries missing after the drain, ${outcome.refused} publishes refused (measured and warm-up, all runs).`));
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  const out = [
    '',
    line(header),
    `|${widths.map((width, i) => (i === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`,
    ...rows.map(line),
    '',
    ...notes,
    ...limitNotes,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; ${timing.warmupMs / 1000} s warm-up, ${timing.durationMs / 1000} s measured, median of ${repeats}.`,
    'Both: server/main.ts (sample application), MariaDB storage (QoS 1 stored before the pubAck), one load generator over TCP.',
    `Cluster: ${nodes} nodes on the Redis bus, clients through HAProxy (leastconn, TCP mode); HAProxy, Redis and MariaDB CPU not in the CPU column.`,
    'On a machine with fewer cores than processes the nodes, HAProxy, Redis, MariaDB and the generator share them: the ratio shows the cost of routing, not the gain of more machines.',
    '',
  ];
  process.stdout.write(out.join('\n'));
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
