/**
 * Renders an HAProxy configuration for a JMQT cluster (protocol page,
 * section 8: several nodes behind one TCP load balancer).
 *
 * Everything is TCP mode: the plain socket and the WebSocket are proxied as
 * byte streams, and TLS (the SSL socket and SSL WebSocket ports) passes
 * through untouched, so each node keeps terminating TLS with its own
 * certificate. Connections are long-lived, so `balance leastconn` spreads
 * them by how many each node holds, and timeouts are long: the broker's own
 * idle timeout (TIMEOUT_SECONDS) ends silent sessions long before HAProxy would.
 *
 * Client addresses: every server line has `send-proxy-v2`, so each connection
 * to a node starts with a PROXY protocol v2 header naming the client's real
 * address, and the nodes run with PROXY_PROTOCOL = 1 (deploy/launch.ts
 * nodeEnv). Their per-address limits, logs, `/api/clients` and the admin
 * API's loopback check then see the client, not HAProxy. A node with
 * PROXY_PROTOCOL = 1 destroys any connection without that header, so the
 * health checks send one too (`check-send-proxy`: a LOCAL header, which the
 * node takes as HAProxy's own address).
 *
 * Health: each node's `GET /api/health` on its plain WebSocket port answers
 * 200 only while its storage and cluster bus work. The socket backend checks
 * every node; the other backends `track` those checks, so a node is taken
 * out of all four frontends at once, with one probe per node per interval.
 * A node marked down keeps its established connections (no
 * `on-marked-down shutdown-sessions`): during a short Redis outage every
 * node reports 503, and cutting every client then would only add a
 * reconnect storm to the outage.
 */
import { pathToFileURL } from 'node:url';

export interface HaproxyNode {
  /** Server name in HAProxy (letters, digits, `-`, `_`, `.`). */
  name: string;
  host: string;
  /** SOCKET_PORT of the node. */
  socket: number;
  /** WEBSOCKET_PORT of the node: WebSocket traffic and the health check. */
  webSocket: number;
  /** SSL_SOCKET_PORT, when the node runs with ENABLE_SSL = 1. */
  sslSocket?: number;
  /** SSL_WEBSOCKET_PORT, when the node runs with ENABLE_SSL = 1. */
  sslWebSocket?: number;
}

export interface HaproxyFrontends {
  socket: number;
  webSocket: number;
  /** TLS socket passthrough; needs `sslSocket` on every node. */
  sslSocket?: number;
  /** TLS WebSocket passthrough; needs `sslWebSocket` on every node. */
  sslWebSocket?: number;
}

export interface HaproxyOptions {
  nodes: HaproxyNode[];
  frontends: HaproxyFrontends;
  /** Address the frontends bind. Default `*` (every interface). */
  bind?: string;
  /** HAProxy's stats page (`/`) and its own health (`/haproxy-health`) on this port, plain HTTP. Default: none. */
  statsPort?: number;
  /** Address of the stats page. Default `127.0.0.1`: it shows every node's address and state. */
  statsBind?: string;
  /**
   * Most connections HAProxy accepts (global, and so per frontend). HAProxy
   * needs about twice that in file descriptors and refuses to start when
   * `ulimit -n` is lower. Default: not set, so HAProxy derives it from `ulimit -n`.
   */
  maxConnections?: number;
  /** Client and server inactivity timeout, seconds. Default 3600: longer than any broker TIMEOUT_SECONDS. */
  idleTimeoutSeconds?: number;
  /** Health check interval, ms. Default 1000. */
  checkIntervalMs?: number;
  /** Comment lines put at the top of the file. */
  header?: string[];
}

type Transport = keyof HaproxyFrontends;

const TRANSPORTS: Array<{ key: Transport; name: string; what: string }> = [
  { key: 'socket', name: 'jmqt_socket', what: 'TCP socket, NUL-framed packets' },
  { key: 'webSocket', name: 'jmqt_websocket', what: 'WebSocket, REST API and dashboard' },
  { key: 'sslSocket', name: 'jmqt_ssl_socket', what: 'TLS socket, passed through' },
  { key: 'sslWebSocket', name: 'jmqt_ssl_websocket', what: 'TLS WebSocket, passed through' },
];

const NAME = /^[A-Za-z0-9_.-]+$/;

export function renderHaproxyConfig(options: HaproxyOptions): string {
  const { nodes, frontends } = options;
  if (nodes.length === 0) throw new Error('an HAProxy configuration needs at least one node');
  const used = TRANSPORTS.filter((transport) => frontends[transport.key] !== undefined);
  for (const node of nodes) {
    if (!NAME.test(node.name)) throw new Error(`node name '${node.name}' is not a valid HAProxy server name`);
    for (const transport of used) {
      if (node[transport.key] === undefined) throw new Error(`node ${node.name} has no ${transport.key} port, but the ${transport.key} frontend is enabled`);
    }
  }
  if (new Set(nodes.map((node) => node.name)).size !== nodes.length) throw new Error('node names must be unique');

  const bind = options.bind ?? '*';
  const maxconn = options.maxConnections;
  const idle = options.idleTimeoutSeconds ?? 3600;
  const inter = options.checkIntervalMs ?? 1000;
  const lines: string[] = [];
  const add = (...more: string[]) => lines.push(...more);

  for (const comment of options.header ?? []) add(comment ? `# ${comment}` : '#');
  if (options.header?.length) add('');
  add(
    'global',
    maxconn === undefined
      ? '    # maxconn: derived from `ulimit -n` (about half of it); each client holds one connection.'
      : `    maxconn ${maxconn}`,
    '    # Run in the foreground (`haproxy -f FILE -db`) or under a service manager.',
    '',
    'defaults',
    '    mode tcp',
    '    option dontlognull',
    '    option tcpka',
    '    # A refused connect (node just died, not yet marked down) is retried on another node.',
    '    retries 3',
    '    option redispatch 1',
    '    timeout connect 3s',
    '    # Long-lived connections: clients send hb every TIMEOUT_SECONDS - 2 s, and the',
    '    # broker ends silent sessions itself, so these only catch dead peers.',
    `    timeout client ${idle}s`,
    `    timeout server ${idle}s`,
    `    timeout tunnel ${idle}s`,
    '    timeout client-fin 30s',
    '    timeout server-fin 30s',
    '    timeout check 2s',
    '',
  );

  if (options.statsPort !== undefined) {
    add(
      'listen stats',
      '    mode http',
      `    bind ${options.statsBind ?? '127.0.0.1'}:${options.statsPort}`,
      '    timeout client 30s',
      '    monitor-uri /haproxy-health',
      '    stats enable',
      '    stats uri /',
      '    stats refresh 5s',
      '',
    );
  }

  const checker = used[0]!;
  for (const transport of used) {
    add(
      `frontend ${transport.name}`,
      `    # ${transport.what}`,
      `    bind ${bind}:${frontends[transport.key]}`,
      `    default_backend ${transport.name}`,
      '',
      `backend ${transport.name}`,
      '    balance leastconn',
    );
    if (transport === checker) {
      add(
        '    # JMQT /api/health: 200 while storage and cluster bus work, 503 otherwise.',
        '    # send-proxy-v2: a PROXY v2 header with the client\'s address first (nodes run PROXY_PROTOCOL = 1);',
        '    # check-send-proxy: the health checks start with one too (LOCAL), or the node would drop them.',
        '    option httpchk',
        '    http-check send meth GET uri /api/health',
        '    http-check expect status 200',
      );
    } else {
      add(`    # Each server follows the health of the same node in backend ${checker.name}; send-proxy-v2 as there.`);
    }
    for (const node of nodes) {
      const address = `${node.host}:${node[transport.key]}`;
      add(transport === checker
        ? `    server ${node.name} ${address} send-proxy-v2 check port ${node.webSocket} check-send-proxy inter ${formatMs(inter)} fall 2 rise 1`
        : `    server ${node.name} ${address} send-proxy-v2 track ${checker.name}/${node.name}`);
    }
    add('');
  }
  return lines.join('\n');
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The three-node example of deploy/haproxy.cfg: frontends on the standard JMQT ports, node n on 180n0-180n3. */
export function exampleConfig(): string {
  const nodes: HaproxyNode[] = [1, 2, 3].map((n) => ({
    name: `node${n}`, host: '127.0.0.1',
    socket: 18000 + n * 10, webSocket: 18001 + n * 10, sslSocket: 18002 + n * 10, sslWebSocket: 18003 + n * 10,
  }));
  return renderHaproxyConfig({
    nodes,
    frontends: { socket: 8010, webSocket: 8011, sslSocket: 8012, sslWebSocket: 8013 },
    statsPort: 8404,
    header: [
      'JMQT cluster of three nodes on 127.0.0.1 behind HAProxy (TCP mode, TLS passed through).',
      'Generated by deploy/haproxy-config.ts (exampleConfig); regenerate with',
      '  npx tsx deploy/haproxy-config.ts > deploy/haproxy.cfg',
      'A test (server/tests/cluster-haproxy.test.ts) fails when the two differ.',
      '',
      'Frontends (what clients use):',
      '  8010 socket   8011 WebSocket + REST API   8012 TLS socket   8013 TLS WebSocket',
      '  8404 HAProxy stats page (/) and HAProxy health (/haproxy-health)',
      '',
      'Nodes (JMQT_SOCKET_PORT, JMQT_WEBSOCKET_PORT, JMQT_SSL_SOCKET_PORT, JMQT_SSL_WEBSOCKET_PORT):',
      ...nodes.map((node) => `  ${node.name}: ${node.socket} ${node.webSocket} ${node.sslSocket} ${node.sslWebSocket}   health: GET /api/health on ${node.webSocket}`),
      '',
      'Every node runs with JMQT_PROXY_PROTOCOL=1: HAProxy starts each connection with a',
      'PROXY v2 header (send-proxy-v2, check-send-proxy) naming the real client address,',
      'and a node destroys any connection without one (a plain curl to a node port too).',
      'Without ENABLE_SSL on the nodes, drop the two TLS frontends and backends.',
      'Set JMQT_ADMIN_TOKEN on every node for operators who are not on the HAProxy host:',
      'without it /api and /metrics answer loopback clients only.',
      'Run: haproxy -f deploy/haproxy.cfg -db   (see deploy/README.md)',
    ],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(exampleConfig());
}
