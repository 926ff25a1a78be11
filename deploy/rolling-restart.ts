/**
 * Rolling restart of a JMQT cluster behind HAProxy: one node after the other
 * is drained (`POST /api/drain`, server/drain.ts) and comes back before the
 * next one goes, so that the cluster never loses more than one node's worth of
 * capacity and no client waits long.
 *
 * For each node, in the order given:
 *
 * 1. `POST /api/drain` on its WebSocket port: 202 with the plan. From then on
 *    its `/api/health` answers 503 (HAProxy marks it down), it accepts nothing
 *    new, and it closes its sessions spread over its DRAIN_SECONDS with
 *    WebSocket close 4002, on which the SDK reconnects at once, through
 *    HAProxy, to the other nodes;
 * 2. the node exits 0 once storage is written: its port stops answering;
 * 3. it is started again: by `--restart CMD` (run with `sh -c`, `{name}`
 *    replaced by the node's name), or by its supervisor (systemd
 *    `Restart=always`, a container's restart policy) when no command is given;
 * 4. its `/api/health` answers 200 again (only a new process can: a draining
 *    one answers 503 until it exits), and, with `--stats`, HAProxy reports it
 *    UP; then the next node.
 *
 * Before the first node, every node must answer 200 (and be UP in HAProxy):
 * draining while another node is down would leave its clients nowhere to go.
 *
 *   npx tsx deploy/rolling-restart.ts --node node1=127.0.0.1:18011 --node node2=127.0.0.1:18021 \
 *     --node node3=127.0.0.1:18031 --stats 8404 [--token ADMIN_TOKEN] [--restart 'systemctl restart jmqt@{name}']
 *
 * The nodes run with PROXY_PROTOCOL = 1 behind HAProxy, so every request starts
 * with a LOCAL PROXY v2 header (as HAProxy's own checks do); `--no-proxy-header`
 * for nodes without it. Without `--token`, the nodes' admin API answers only
 * when this runs on their host (loopback).
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { haproxyServers, httpRequest, sleep } from './launch';

export interface RollingNode {
  /** NODE_ID, and the server name in HAProxy. */
  name: string;
  host: string;
  /** WEBSOCKET_PORT: the REST API and health. */
  webSocket: number;
}

export interface RollingOptions {
  nodes: RollingNode[];
  /** The nodes' ADMIN_TOKEN; empty: loopback callers only. */
  token?: string;
  /** Start each request with a LOCAL PROXY v2 header (nodes with PROXY_PROTOCOL = 1). Default true. */
  proxyHeader?: boolean;
  /** Starts a node again once it has exited; default: its supervisor does, and this only waits. */
  restart?: (node: RollingNode) => Promise<void>;
  /** HAProxy's stats page on 127.0.0.1 and the backend whose servers carry the health checks. */
  haproxy?: { statsPort: number; backend: string };
  /** Longest wait for each step (exit after the drain, health 200, HAProxy UP), ms. Default 120000. */
  stepTimeoutMs?: number;
  /** Progress lines; default standard output. */
  log?: (line: string) => void;
}

export interface NodeRestart {
  node: string;
  /** The drain plan from POST /api/drain. */
  plan: Record<string, unknown>;
  drainRequestedAt: number;
  /** When its port stopped answering (the process exited). */
  exitedAt: number;
  /** When its health answered 200 again. */
  healthyAt: number;
  /** When HAProxy saw it UP (healthyAt without `haproxy`). */
  routedAt: number;
}

/** One HTTP request to a node, LOCAL PROXY header first unless told otherwise. */
function call(node: RollingNode, method: string, path: string, options: RollingOptions, timeoutMs = 3000): Promise<{ status: number; body: any }> {
  return httpRequest(node.webSocket, method, path, { host: node.host, token: options.token, proxy: options.proxyHeader !== false, timeoutMs });
}

/** `/api/health` status, or 0 when the node does not answer at all. */
async function health(node: RollingNode, options: RollingOptions): Promise<number> {
  return call(node, 'GET', '/api/health', options, 2000).then((answer) => answer.status, () => 0);
}

async function until(what: string, ms: number, check: () => Promise<boolean>, everyMs = 100): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function routedUp(options: RollingOptions, names: string[]): Promise<boolean> {
  if (!options.haproxy) return true;
  const servers = await haproxyServers(options.haproxy.statsPort, options.haproxy.backend).catch(() => new Map<string, string>());
  return names.every((name) => servers.get(name) === 'UP');
}

/** Drains and restarts every node in turn; answers what happened to each. Throws (and stops) at the first step that fails. */
export async function rollingRestart(options: RollingOptions): Promise<NodeRestart[]> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stepMs = options.stepTimeoutMs ?? 120_000;
  const names = options.nodes.map((node) => node.name);
  if (options.nodes.length === 0) throw new Error('no nodes to restart');

  for (const node of options.nodes) {
    const status = await health(node, options);
    if (status !== 200) throw new Error(`${node.name} answers /api/health with ${status || 'nothing'}: every node must be healthy before a rolling restart`);
  }
  if (!(await routedUp(options, names))) throw new Error(`HAProxy does not report every node UP in ${options.haproxy!.backend}`);

  const results: NodeRestart[] = [];
  for (const node of options.nodes) {
    const drainRequestedAt = Date.now();
    const drain = await call(node, 'POST', '/api/drain', options);
    if (drain.status !== 202) throw new Error(`${node.name}: POST /api/drain answered ${drain.status} ${JSON.stringify(drain.body)}`);
    const plan = drain.body as Record<string, unknown>;
    log(`${node.name}: draining ${plan['sessions']} session(s) over ${plan['drainSeconds']} s in ${plan['batches']} batch(es)`);
    const drainSeconds = Number(plan['drainSeconds']) || 0;
    // A draining node answers 503 until it exits; 200 can only come from the next process.
    // Gone: no answer twice in a row, so that one lost probe is not taken for an exit.
    let restarted = false;
    let silent = 0;
    const exitedAt = await until(`${node.name} to exit after its drain`, drainSeconds * 1000 + stepMs, async () => {
      const status = await health(node, options);
      restarted = status === 200;
      silent = status === 0 ? silent + 1 : 0;
      return silent >= 2 || restarted;
    });
    log(`${node.name}: exited ${((exitedAt - drainRequestedAt) / 1000).toFixed(1)} s after the drain request${restarted ? ' (already restarted by its supervisor)' : ''}`);
    if (options.restart && !restarted) await options.restart(node);
    const healthyAt = await until(`${node.name} to answer /api/health with 200 again`, stepMs, async () => (await health(node, options)) === 200);
    const routedAt = await until(`HAProxy to report ${node.name} UP`, stepMs, () => routedUp(options, [node.name]));
    log(`${node.name}: back ${((healthyAt - exitedAt) / 1000).toFixed(1)} s after exit${options.haproxy ? `, UP in HAProxy after ${((routedAt - exitedAt) / 1000).toFixed(1)} s` : ''}`);
    results.push({ node: node.name, plan, drainRequestedAt, exitedAt, healthyAt, routedAt });
  }
  log(`rolling restart done: ${results.length} node(s) in ${((Date.now() - results[0]!.drainRequestedAt) / 1000).toFixed(1)} s`);
  return results;
}

function runCommand(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`'${command}' exited ${code}`))));
  });
}

const usage = `Usage: npx tsx deploy/rolling-restart.ts --node NAME=HOST:WSPORT [--node …] [options]

  --node NAME=HOST:WSPORT   a node (NODE_ID and HAProxy server name, WebSocket/API port), in restart order
  --token TOKEN             the nodes' ADMIN_TOKEN (default: none, loopback only)
  --restart CMD             run after each node exits ({name} is replaced); default: its supervisor restarts it
  --stats PORT              HAProxy's stats page on 127.0.0.1: wait until each node is UP again
  --backend NAME            HAProxy backend with the health checks (default jmqt_socket)
  --timeout SECONDS         longest wait of each step (default 120)
  --no-proxy-header         nodes without PROXY_PROTOCOL = 1
`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let values;
  try {
    values = parseArgs({
      options: {
        node: { type: 'string', multiple: true, default: [] },
        token: { type: 'string', default: process.env['JMQT_ADMIN_TOKEN'] ?? '' },
        restart: { type: 'string' },
        stats: { type: 'string' },
        backend: { type: 'string', default: 'jmqt_socket' },
        timeout: { type: 'string', default: '120' },
        'no-proxy-header': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const nodes = values.node.map((text) => {
    const match = /^([A-Za-z0-9_.-]+)=(.+):(\d+)$/.exec(text);
    if (!match) {
      process.stderr.write(`--node ${text}: expected NAME=HOST:WSPORT\n\n${usage}`);
      process.exit(2);
    }
    return { name: match[1]!, host: match[2]!, webSocket: Number(match[3]) };
  });
  if (nodes.length === 0) {
    process.stderr.write(usage);
    process.exit(2);
  }
  const command = values.restart;
  rollingRestart({
    nodes,
    token: values.token,
    proxyHeader: !values['no-proxy-header'],
    restart: command ? (node) => runCommand(command.replaceAll('{name}', node.name)) : undefined,
    haproxy: values.stats ? { statsPort: Number(values.stats), backend: values.backend } : undefined,
    stepTimeoutMs: Number(values.timeout) * 1000,
  }).then(() => process.exit(0), (error: Error) => {
    process.stderr.write(`rolling restart stopped: ${error.message}\n`);
    process.exit(1);
  });
}
