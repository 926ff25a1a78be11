/**
 * A JMQT cluster on this machine, by hand: N broker nodes (server/main.ts
 * with the sample application) sharing MariaDB/MySQL and the Redis bus,
 * behind HAProxy in TCP mode. Ctrl-C or SIGTERM stops everything.
 *
 *   npx tsx scripts/cluster.ts --nodes 3
 *   npx tsx scripts/cluster.ts --nodes 3 --ports 9000      # fixed ports, see --help
 *
 * Needs MariaDB/MySQL (root, no password, 127.0.0.1:3306 unless told),
 * Redis (127.0.0.1:6379 unless told) and haproxy (/usr/sbin/haproxy or $HAPROXY).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderHaproxyConfig, type HaproxyFrontends } from '../deploy/haproxy-config';
import {
  accepts, childEnv, haproxyBinary, nodeEnv, spawnChild, startHaproxy, waitAccepting, waitForServers,
  type ChildHandle, type NodePorts,
} from '../deploy/launch';
import { freePort } from '../server/testing/process';

const usage = `Usage: npx tsx scripts/cluster.ts [options]

  --nodes N            broker nodes (default 3)
  --ports BASE         fixed ports: HAProxy socket BASE, WebSocket BASE+1,
                       TLS socket BASE+2, TLS WebSocket BASE+3, stats BASE+4;
                       node n (1…N): socket BASE+10n, WebSocket BASE+10n+1,
                       TLS BASE+10n+2 and BASE+10n+3 (default: free ports)
  --mysql-db NAME      database shared by the nodes, created when missing (default jmqt_cluster)
  --mysql-host HOST    (default 127.0.0.1)   --mysql-port PORT (default 3306)
  --mysql-user USER    (default root)        --mysql-password PW (default empty)
  --redis-port PORT    Redis of the bus (default 6379)   --redis-host HOST (default 127.0.0.1)
  --cluster-name NAME  prefix of the cluster's Redis keys and channels (default: the database name)
  --secret SECRET      AUTH_SECRET shared by the nodes (default: random for this run)
  --bind ADDRESS       where HAProxy listens (default 127.0.0.1; the nodes always bind 127.0.0.1)
  --ssl-cert FILE --ssl-key FILE   also TLS on every node, passed through by HAProxy
  --quiet              do not echo the nodes' and HAProxy's output
`;

const mainFile = fileURLToPath(new URL('../server/main.ts', import.meta.url));

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        nodes: { type: 'string', default: '3' },
        ports: { type: 'string' },
        'mysql-db': { type: 'string', default: 'jmqt_cluster' },
        'mysql-host': { type: 'string', default: '127.0.0.1' },
        'mysql-port': { type: 'string', default: '3306' },
        'mysql-user': { type: 'string', default: 'root' },
        'mysql-password': { type: 'string', default: '' },
        'redis-host': { type: 'string', default: '127.0.0.1' },
        'redis-port': { type: 'string', default: '6379' },
        'cluster-name': { type: 'string' },
        secret: { type: 'string' },
        bind: { type: 'string', default: '127.0.0.1' },
        'ssl-cert': { type: 'string' },
        'ssl-key': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n\n${usage}`);
  }
  if (args.help) {
    process.stdout.write(usage);
    return;
  }
  const count = Number(args.nodes);
  if (!Number.isInteger(count) || count < 1 || count > 50) fail('--nodes: a whole number from 1 to 50');
  const base = args.ports === undefined ? undefined : Number(args.ports);
  if (base !== undefined && (!Number.isInteger(base) || base < 1 || base + 10 * count + 3 > 65535)) fail(`--ports: a base port such that ${10 * count + 3} ports above it are free`);
  const ssl = args['ssl-cert'] || args['ssl-key'] ? { cert: args['ssl-cert'] ?? '', key: args['ssl-key'] ?? '' } : undefined;
  if (ssl && (!ssl.cert || !ssl.key)) fail('--ssl-cert and --ssl-key go together');
  const database = args['mysql-db'];
  if (!/^[A-Za-z0-9_]+$/.test(database)) fail('--mysql-db: letters, digits and _ only');
  const clusterName = args['cluster-name'] ?? database;
  const redisPort = Number(args['redis-port']);
  const mysqlPort = Number(args['mysql-port']);
  if (!(await accepts(redisPort, args['redis-host']))) fail(`nothing answers on Redis ${args['redis-host']}:${redisPort}: start redis-server or pass --redis-port`);
  if (!(await accepts(mysqlPort, args['mysql-host']))) fail(`nothing answers on MariaDB/MySQL ${args['mysql-host']}:${mysqlPort}: start it or pass --mysql-port`);

  const port = async (offset: number) => (base === undefined ? freePort() : base + offset);
  const frontends: HaproxyFrontends = { socket: await port(0), webSocket: await port(1) };
  if (ssl) Object.assign(frontends, { sslSocket: await port(2), sslWebSocket: await port(3) });
  const statsPort = await port(4);
  const secret = args.secret ?? randomBytes(24).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-cluster-'));

  const nodes: Array<{ name: string; ports: NodePorts; env: Record<string, string>; handle?: ChildHandle }> = [];
  for (let n = 1; n <= count; n++) {
    const ports: NodePorts = { socket: await port(10 * n), webSocket: await port(10 * n + 1) };
    if (ssl) Object.assign(ports, { sslSocket: await port(10 * n + 2), sslWebSocket: await port(10 * n + 3) });
    const name = `node${n}`;
    mkdirSync(join(dir, name));
    const env = nodeEnv({
      nodeId: name, ports, authSecret: secret, dir: join(dir, name), clusterName, ssl,
      mysql: { host: args['mysql-host'], port: mysqlPort, user: args['mysql-user'], password: args['mysql-password'], database },
      redis: { host: args['redis-host'], port: redisPort },
    });
    nodes.push({ name, ports, env });
  }

  let haproxy: ChildHandle | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping the cluster…\n');
    await haproxy?.stop('SIGTERM', 3000);
    await Promise.all(nodes.map((node) => node.handle?.stop('SIGTERM', 12_000)));
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  try {
    // Started together, as a deployment would: each creates the database and tables when missing.
    await Promise.all(nodes.map(async (node) => {
      node.handle = spawnChild(process.execPath, ['--import', 'tsx', mainFile], { env: childEnv(node.env), echo: args.quiet ? undefined : `[${node.name}] ` });
      node.handle.exited.then((code) => {
        if (!stopping) process.stdout.write(`${node.name} exited (${code}); HAProxy routes around it. Ctrl-C stops the rest.\n`);
      });
      await waitAccepting(node.ports.socket, node.handle, node.name, 30_000);
    }));
    const config = renderHaproxyConfig({
      nodes: nodes.map((node) => ({ name: node.name, host: '127.0.0.1', ...node.ports })),
      frontends, bind: args.bind, statsPort,
      header: [`Generated by scripts/cluster.ts for ${count} node(s) of cluster '${clusterName}'.`],
    });
    haproxy = await startHaproxy(config, dir, statsPort, args.quiet ? undefined : '[haproxy] ');
    haproxy.exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`HAProxy exited (${code}):\n${haproxy?.output()}\n`);
      void stop(1);
    });
    await waitForServers(statsPort, 'jmqt_socket', Object.fromEntries(nodes.map((node) => [node.name, 'UP'])), 20_000);
  } catch (error) {
    process.stderr.write(`the cluster did not start: ${(error as Error).message}\n`);
    await stop(1);
    return;
  }

  const host = args.bind === '0.0.0.0' || args.bind === '*' ? '127.0.0.1' : args.bind;
  const lines = [
    '',
    `JMQT cluster '${clusterName}': ${count} node(s), MariaDB database ${database} on ${args['mysql-host']}:${mysqlPort}, Redis ${args['redis-host']}:${redisPort}`,
    '',
    'HAProxy (what clients use):',
    `  socket        ${host}:${frontends.socket}`,
    `  WebSocket     ws://${host}:${frontends.webSocket}/`,
    ...(ssl ? [`  TLS socket    ${host}:${frontends.sslSocket}`, `  TLS WebSocket wss://${host}:${frontends.sslWebSocket}/`] : []),
    `  stats         http://127.0.0.1:${statsPort}/`,
    '',
    'Nodes (socket, WebSocket + API; PROXY_PROTOCOL = 1: only connections that start with a PROXY v2 header, as HAProxy sends):',
    ...nodes.map((node) => `  ${node.name}  ${node.ports.socket}  ${node.ports.webSocket}${ssl ? `  TLS ${node.ports.sslSocket} ${node.ports.sslWebSocket}` : ''}`),
    `  health of each node: the stats page, or  npx tsx deploy/launch.ts health ${nodes.map((node) => node.ports.webSocket).join(' ')}`,
    '',
    `HAProxy config: ${join(dir, 'haproxy.cfg')} (${haproxyBinary()})`,
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
