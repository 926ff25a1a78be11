/**
 * PROXY_PROTOCOL = 1 (protocol 11.8): every connection on every port starts
 * with a PROXY protocol v2 header (HAProxy `send-proxy-v2`), and the source
 * address it carries is the client's address everywhere: per-address limits,
 * log lines, /api/clients remoteHost, hooks' peer.remoteHost and the admin
 * API's loopback check. A connection without a valid header, or whose header
 * is not complete within CONNECT_TIMEOUT_SECONDS, is destroyed; a LOCAL
 * header (HAProxy's health checks) stands for the socket's own address.
 * Headers are built with proxy-protocol-js, sent over real TCP, WebSocket,
 * TLS and TLS WebSocket connections, split over several writes and coalesced
 * with the bytes after them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  Command, IPv4Address, IPv4ProxyAddress, IPv6Address, IPv6ProxyAddress, TransportProtocol, UnspecProxyAddress, V2ProxyProtocol,
} from 'proxy-protocol-js';
import { TEST_SECRET, type TestBroker } from '../testing/harness';
import { makeCertificate } from '../testing/certificate';
import { sleep, waitUntil } from '../../tools/wait';
import type { Config } from '../config';
import type { Application, Peer } from '../hooks';
import type { Logger } from '../log';
import { sampleApplication } from '../sample-app';
import { startServer } from '../server';
import { TokenSigner } from '../tokens';
import { NulFramer } from '../../shared/framer';

type Transport = 'tcp' | 'ws' | 'tls' | 'wss';

// ---------------------------------------------------------------- headers

function ipv6Bytes(text: string): number[] {
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

/** A PROXY (command) v2 header for a TCP client at `source`, IPv4 or IPv6. */
function proxyHeader(source: string, destinationPort = 8010): Buffer {
  const address = source.includes(':')
    ? new IPv6ProxyAddress(IPv6Address.createFrom(ipv6Bytes(source)), 40_001, IPv6Address.createFrom(ipv6Bytes('::1')), destinationPort)
    : new IPv4ProxyAddress(IPv4Address.createFrom(source.split('.').map(Number)), 40_001, IPv4Address.createFrom([127, 0, 0, 1]), destinationPort);
  return Buffer.from(new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM, address).build());
}

/** A LOCAL header as HAProxy's health checks send it (no addresses). */
const LOCAL = Buffer.from(new V2ProxyProtocol(Command.LOCAL, TransportProtocol.UNSPEC, new UnspecProxyAddress()).build());

// ---------------------------------------------------------------- broker

interface Recorded {
  lines: string[];
  peers: Array<{ hook: string; clientId: string; remoteHost: string }>;
}

/** A broker on free ports with PROXY_PROTOCOL, a logger that keeps its lines, and the sample application recording the peers its hooks see. */
async function startProxiedBroker(config: Partial<Config> = {}): Promise<TestBroker & Recorded> {
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-proxy-'));
  const { cert, key } = makeCertificate(dir);
  const recorded: Recorded = { lines: [], peers: [] };
  const line = (level: string) => (message: string) => { recorded.lines.push(`${level} ${message}`); };
  const log: Logger = { debug: line('DBG'), info: line('INF'), warn: line('WRN'), error: line('ERR'), close: async () => undefined };
  const tokens = new TokenSigner(TEST_SECRET, 3600);
  const sample = sampleApplication(tokens, log);
  const seen = (hook: string, peer: Peer) => recorded.peers.push({ hook, clientId: peer.clientId, remoteHost: peer.remoteHost });
  const application: Partial<Application> = {
    ...sample,
    authenticate: (data, peer) => { seen('auth', peer); return sample.authenticate!(data, peer); },
    validateConnection: (clientId, token, peer) => { seen('conn', peer); return sample.validateConnection!(clientId, token, peer); },
    validateSubscription: (channel, persistent, peer) => { seen('sub', peer); return sample.validateSubscription!(channel, persistent, peer); },
    onConnectionClose: (peer) => { seen('close', peer); sample.onConnectionClose!(peer); },
  };
  const server = await startServer({
    config: {
      SOCKET_PORT: 0, WEBSOCKET_PORT: 0, SSL_SOCKET_PORT: 0, SSL_WEBSOCKET_PORT: 0, BIND_ADDRESS: '127.0.0.1',
      SQLITE_PATH: join(dir, 'jmqt.db'), SQLITE_SYNC: 'normal', LOG_MODE: 'DBG',
      ENABLE_SSL: true, SSL_CERT_PATH: cert, SSL_KEY_PATH: key, PROXY_PROTOCOL: true, ...config,
    },
    application,
    logger: log,
  });
  return Object.assign(server, recorded, {
    dir,
    tokens,
    queuedFor: async (clientId: string) => (await server.broker.storage.queuedFor(clientId)).length,
    destroy: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

function portOf(broker: TestBroker, transport: Transport): number {
  return { tcp: broker.ports.socket, ws: broker.ports.webSocket, tls: broker.ports.sslSocket!, wss: broker.ports.sslWebSocket! }[transport];
}

// ---------------------------------------------------------------- client

interface SendOptions {
  /** Written first; null: no header at all. */
  header: Buffer | null;
  /** Writes the header in this many pieces, with a pause between them so that each arrives alone. Default 1. */
  pieces?: number;
  /** TCP only: this JMQT packet goes in the same write as the (last piece of the) header. */
  coalesce?: Record<string, unknown>;
  /** WebSocket only: the header is queued on the socket before it connects, so it leaves in one write with the HTTP upgrade. */
  withUpgrade?: boolean;
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
}

function written(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve())));
}

/** Opens a TCP socket to `port` and writes the header as asked. The socket has an error listener. */
async function rawWithHeader(port: number, options: SendOptions, after: Buffer = Buffer.alloc(0)): Promise<Socket> {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.setNoDelay(true);
  await connected(socket);
  const header = options.header ?? Buffer.alloc(0);
  const pieces = Math.max(1, options.pieces ?? 1);
  const size = Math.ceil(header.length / pieces);
  for (let at = 0; at < header.length; at += size) {
    const last = at + size >= header.length;
    await written(socket, last ? Buffer.concat([header.subarray(at), after]) : header.subarray(at, at + size));
    // Lets the piece leave and be read on its own before the next one.
    if (!last) await sleep(25);
  }
  if (header.length === 0 && after.length > 0) await written(socket, after);
  return socket;
}

/** A JMQT client over a connection that starts with a PROXY header. */
class ProxiedClient {
  readonly received: Array<Record<string, Record<string, unknown>>> = [];
  closed = false;
  private waiters: Array<{ type: string; resolve: (fields: Record<string, unknown>) => void; reject: (error: Error) => void }> = [];
  private closeWaiters: Array<() => void> = [];
  private sendText: (text: string) => void = () => undefined;
  private end: () => void = () => undefined;

  static async open(transport: Transport, port: number, options: SendOptions): Promise<ProxiedClient> {
    const client = new ProxiedClient();
    const coalesced = options.coalesce ? Buffer.from(JSON.stringify(options.coalesce) + '\0') : undefined;
    let raw: Socket;
    if (options.withUpgrade && transport === 'ws') {
      raw = tcpConnect({ host: '127.0.0.1', port });
      raw.on('error', () => undefined);
      raw.write(options.header ?? Buffer.alloc(0));
    } else {
      raw = await rawWithHeader(port, options, coalesced);
    }
    raw.once('close', () => client.onClose());
    if (transport === 'ws' || transport === 'wss') {
      const secure = transport === 'wss';
      const ws = new WebSocket(`${transport}://127.0.0.1:${port}/`, {
        rejectUnauthorized: false,
        createConnection: () => (secure ? tlsConnect({ socket: raw, rejectUnauthorized: false }) : raw),
      });
      client.sendText = (text) => ws.send(text);
      client.end = () => ws.close();
      ws.on('message', (data) => client.onText(data.toString()));
      ws.on('close', () => client.onClose());
      ws.on('error', () => client.onClose());
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      return client;
    }
    let stream: Socket | TLSSocket = raw;
    if (transport === 'tls') {
      stream = tlsConnect({ socket: raw, rejectUnauthorized: false });
      stream.on('error', () => client.onClose());
      await new Promise((resolve, reject) => { stream.once('secureConnect', resolve); stream.once('error', reject); stream.once('close', reject); });
    }
    const framer = new NulFramer(1024 * 1024);
    stream.on('data', (chunk: Buffer) => framer.push(chunk, (frame) => client.onText(Buffer.from(frame).toString('utf8'))));
    stream.on('close', () => client.onClose());
    client.sendText = (text) => stream.write(text + '\0');
    client.end = () => stream.end();
    return client;
  }

  send(packet: Record<string, unknown>): void {
    this.sendText(JSON.stringify(packet));
  }

  next(type: string, ms = 3000): Promise<Record<string, unknown>> {
    const earlier = this.received.find((packet) => type in packet && !this.consumed.has(packet));
    if (earlier) {
      this.consumed.add(earlier);
      return Promise.resolve(earlier[type]!);
    }
    if (this.closed) return Promise.reject(new Error(`no ${type}: the connection is closed`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms; received ${JSON.stringify(this.received)}`)), ms);
      this.waiters.push({
        type,
        resolve: (fields) => { clearTimeout(timer); resolve(fields); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
    });
  }

  request(packet: Record<string, unknown>, type: string): Promise<Record<string, unknown>> {
    const answer = this.next(type);
    this.send(packet);
    return answer;
  }

  close(): void {
    this.end();
  }

  waitClosed(ms = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
      this.closeWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  private readonly consumed = new Set<object>();

  private onText(text: string): void {
    const packet = JSON.parse(text) as Record<string, Record<string, unknown>>;
    this.received.push(packet);
    const index = this.waiters.findIndex((waiter) => waiter.type in packet);
    if (index >= 0) {
      this.consumed.add(packet);
      const [waiter] = this.waiters.splice(index, 1);
      waiter!.resolve(packet[waiter!.type]!);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const resolve of this.closeWaiters.splice(0)) resolve();
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`no ${waiter.type}: the connection closed`));
  }
}

/** auth + conn with the sample application. */
async function openSession(client: ProxiedClient, clientId: string, authAck?: Record<string, unknown>): Promise<void> {
  const auth = authAck ?? await client.request({ auth: { dt: { client_name: clientId } } }, 'authAck');
  assert.equal(auth['st'], 1, JSON.stringify(auth));
  assert.deepEqual(await client.request({ conn: { at: auth['at'], cl: clientId } }, 'connAck'), { st: 1, ts: 15 });
}

/** A GET over a connection that starts with `header` (LOCAL by default), Host localhost:PORT unless given. */
function proxiedGet(port: number, path: string, header: Buffer = LOCAL, host = `localhost:${port}`): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, headers: { Host: host },
      createConnection: () => {
        const socket = tcpConnect({ host: '127.0.0.1', port });
        // Queued before the request, so it leaves first.
        socket.write(header);
        return socket;
      },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function remoteHostOf(broker: TestBroker, clientId: string): Promise<string | undefined> {
  const { status, body } = await proxiedGet(broker.ports.webSocket, '/api/clients');
  assert.equal(status, 200);
  return (body.clients as Array<{ clientId: string; remoteHost: string }>).find((client) => client.clientId === clientId)?.remoteHost;
}

/** Resolves true when the server closed the connection (within `ms`), false when it is still open then. */
function closedBy(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}

// ---------------------------------------------------------------- tests

describe('PROXY protocol v2 (PROXY_PROTOCOL = 1)', () => {
  let broker: TestBroker & Recorded;
  before(async () => { broker = await startProxiedBroker(); });
  after(async () => { await broker.destroy(); });

  const cases: Array<{ transport: Transport; source: string; options: Omit<SendOptions, 'header'>; what: string; protocol: string }> = [
    { transport: 'tcp', source: '203.0.113.7', options: { pieces: 3, coalesce: { auth: { dt: { client_name: 'px-tcp' } } } }, what: 'header in 3 writes, the last with the first packet', protocol: 'SOCKET' },
    { transport: 'tcp', source: '203.0.113.8', options: { coalesce: { auth: { dt: { client_name: 'px-tcp2' } } } }, what: 'header and first packet in one write', protocol: 'SOCKET' },
    { transport: 'ws', source: '198.51.100.21', options: { pieces: 4 }, what: 'header in 4 writes, then the HTTP upgrade', protocol: 'WEB_SOCKET' },
    { transport: 'ws', source: '198.51.100.22', options: { withUpgrade: true }, what: 'header and HTTP upgrade in one write', protocol: 'WEB_SOCKET' },
    { transport: 'tls', source: '2001:db8::17', options: { pieces: 2 }, what: 'IPv6 header in 2 writes, then TLS', protocol: 'SSL_SOCKET' },
    { transport: 'wss', source: '192.0.2.33', options: {}, what: 'header, then TLS and the upgrade', protocol: 'SSL_WEB_SOCKET' },
  ];
  for (const { transport, source, options, what, protocol } of cases) {
    const clientId = options.coalesce ? (options.coalesce['auth'] as { dt: { client_name: string } }).dt.client_name : `px-${transport}-${source.replace(/[.:]/g, '-')}`;
    it(`${transport} (${what}): the header's ${source} is the client's address in /api/clients, hooks and logs`, async () => {
      const client = await ProxiedClient.open(transport, portOf(broker, transport), { header: proxyHeader(source), ...options });
      await openSession(client, clientId, options.coalesce ? await client.next('authAck') : undefined);
      assert.deepEqual(await client.request({ sub: { cn: `chan-${clientId}`, pr: 0 } }, 'subAck'), { st: 1, cn: `chan-${clientId}` });
      assert.equal(await remoteHostOf(broker, clientId), source);
      client.send({ disconn: {} });
      await client.waitClosed();
      await waitUntil(() => broker.peers.some((peer) => peer.hook === 'close' && peer.clientId === clientId), 5000, `the close of ${clientId}`);

      // Every hook call of this client (auth and conn come before it has a client id), and no other.
      const hooks = broker.peers.filter((peer) => peer.clientId === clientId || (peer.clientId === '' && peer.remoteHost === source));
      assert.deepEqual(hooks.map((peer) => `${peer.hook} ${peer.remoteHost}`), ['auth', 'conn', 'sub', 'close'].map((hook) => `${hook} ${source}`));
      assert.ok(broker.lines.includes(`INF session started: client "${clientId}" from ${source} over ${protocol}`), broker.lines.join('\n'));
      assert.ok(broker.lines.some((line) => line.startsWith('INF session ended') && line.endsWith(`client "${clientId}" from ${source} over ${protocol}`)), broker.lines.join('\n'));
      assert.ok(broker.lines.includes(`DBG connection opened from ${source} over ${protocol}`));
    });
  }

  it('a LOCAL header (health checks) stands for the socket\'s own address, even with addresses in it', async () => {
    const withAddresses = Buffer.from(new V2ProxyProtocol(Command.LOCAL, TransportProtocol.STREAM,
      new IPv4ProxyAddress(IPv4Address.createFrom([203, 0, 113, 99]), 1, IPv4Address.createFrom([127, 0, 0, 1]), 2)).build());
    for (const [header, clientId] of [[LOCAL, 'px-local'], [withAddresses, 'px-local2']] as const) {
      const client = await ProxiedClient.open('tcp', broker.ports.socket, { header });
      await openSession(client, clientId);
      assert.equal(await remoteHostOf(broker, clientId), '127.0.0.1');
      client.close();
    }
    const health = await proxiedGet(broker.ports.webSocket, '/api/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
  });

  it('the admin API\'s loopback check uses the header\'s address', async () => {
    const port = broker.ports.webSocket;
    for (const source of ['203.0.113.50', '10.1.2.3', '2001:db8::50']) {
      const answer = await proxiedGet(port, '/api/clients', proxyHeader(source));
      assert.equal(answer.status, 403, source);
      assert.match(answer.body.error, /loopback/);
      assert.equal((await proxiedGet(port, '/metrics', proxyHeader(source))).status, 403, source);
      // Health stays open to anyone.
      assert.equal((await proxiedGet(port, '/api/health', proxyHeader(source))).status, 200, source);
    }
    for (const source of ['127.0.0.1', '127.9.9.9', '::1']) {
      assert.equal((await proxiedGet(port, '/api/clients', proxyHeader(source))).status, 200, source);
    }
    // A loopback address still needs a loopback Host (DNS rebinding).
    assert.equal((await proxiedGet(port, '/api/clients', proxyHeader('127.0.0.1'), 'attacker.example')).status, 403);
  });

  for (const transport of ['tcp', 'ws', 'tls', 'wss'] as const) {
    it(`${transport} port: a connection without a valid header is destroyed at once, unanswered`, async () => {
      const port = portOf(broker, transport);
      const openings: Array<[string, Buffer]> = [
        ['a JMQT packet', Buffer.from(JSON.stringify({ auth: { dt: { client_name: 'no-header' } } }) + '\0')],
        ['an HTTP request', Buffer.from(`GET /api/health HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`)],
        ['a TLS ClientHello', Buffer.from('16030100a1010000', 'hex')],
        ['a PROXY v1 line', Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 40001 8010\r\n')],
        ['a v2 signature with a bad version', Buffer.concat([proxyHeader('203.0.113.7').subarray(0, 12), Buffer.from([0x31, 0x11, 0x00, 0x0c]), Buffer.alloc(12)])],
        ['a v2 header whose length is over 2 KiB', Buffer.concat([proxyHeader('203.0.113.7').subarray(0, 14), Buffer.from([0xff, 0xff])])],
      ];
      for (const [what, bytes] of openings) {
        const socket = await rawWithHeader(port, { header: null }, bytes);
        const answers: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => answers.push(chunk));
        // Far less than CONNECT_TIMEOUT_SECONDS (10 s): destroyed for the bytes, not for the time.
        assert.equal(await closedBy(socket, 2000), true, `${what}: still open`);
        assert.equal(Buffer.concat(answers).length, 0, `${what}: answered ${Buffer.concat(answers).toString()}`);
      }
      // And the usual clients fail without one.
      if (transport === 'ws' || transport === 'wss') {
        const opened = await new Promise<boolean>((resolve) => {
          const ws = new WebSocket(`${transport}://127.0.0.1:${port}/`, { rejectUnauthorized: false });
          ws.once('open', () => { ws.terminate(); resolve(true); });
          ws.once('error', () => resolve(false));
        });
        assert.equal(opened, false);
      }
      if (transport === 'ws') await assert.rejects(fetch(`http://127.0.0.1:${port}/api/health`));
    });
  }

  it('a header split at every byte still works, and what follows it in the same write is read', async () => {
    const header = proxyHeader('198.51.100.77');
    const client = await ProxiedClient.open('tcp', broker.ports.socket, { header, pieces: header.length, coalesce: { auth: { dt: { client_name: 'px-bytes' } } } });
    await openSession(client, 'px-bytes', await client.next('authAck'));
    assert.equal(await remoteHostOf(broker, 'px-bytes'), '198.51.100.77');
    client.close();
  });
});

describe('PROXY protocol: deadlines and per-address limits', () => {
  it('a header not complete within CONNECT_TIMEOUT_SECONDS is destroyed, on every port', async () => {
    // 1 s, the shortest allowed, so the test waits one second rather than ten.
    const broker = await startProxiedBroker({ CONNECT_TIMEOUT_SECONDS: 1 });
    try {
      const started = Date.now();
      const ports = (['tcp', 'ws', 'tls', 'wss'] as const).map((transport) => portOf(broker, transport));
      // When each was closed, ms after the start; -1: still open after 4 s.
      const closedAt = (socket: Socket) => closedBy(socket, 4000).then((closed) => (closed ? Date.now() - started : -1));
      const outcomes = await Promise.all(ports.map(async (port) => {
        const partial = await rawWithHeader(port, { header: null }, proxyHeader('203.0.113.7').subarray(0, 10));
        const fixedPart = await rawWithHeader(port, { header: null }, proxyHeader('203.0.113.7').subarray(0, 20));
        const silent = await rawWithHeader(port, { header: null });
        return { port, times: await Promise.all([partial, fixedPart, silent].map(closedAt)) };
      }));
      for (const { port, times } of outcomes) {
        for (const [what, at] of ['10 header bytes', '20 header bytes', 'nothing'].map((what, i) => [what, times[i]!] as const)) {
          assert.ok(at >= 0, `port ${port}, ${what} sent: still open after 4 s`);
          assert.ok(at >= 900, `port ${port}, ${what} sent: closed after ${at} ms, before the deadline`);
        }
      }
    } finally {
      await broker.destroy();
    }
  });

  it('MAX_CONNECTIONS_PER_ADDRESS counts the header\'s address, not the socket\'s (all 127.0.0.1 here)', async () => {
    // 2 instead of 2000: the third connection from one address is the one refused.
    const broker = await startProxiedBroker({ MAX_CONNECTIONS_PER_ADDRESS: 2 });
    const clients: ProxiedClient[] = [];
    try {
      for (const [n, source] of [[1, '198.51.100.1'], [2, '198.51.100.1'], [3, '198.51.100.2'], [4, '198.51.100.2'], [5, '198.51.100.3']] as const) {
        const client = await ProxiedClient.open('tcp', broker.ports.socket, { header: proxyHeader(source) });
        await openSession(client, `limited-${n}`);
        clients.push(client);
      }
      const refused = await rawWithHeader(broker.ports.socket, { header: proxyHeader('198.51.100.1') }, Buffer.from(JSON.stringify({ auth: { dt: { client_name: 'limited-6' } } }) + '\0'));
      const answers: Buffer[] = [];
      refused.on('data', (chunk: Buffer) => answers.push(chunk));
      assert.equal(await closedBy(refused, 2000), true, 'a third connection from 198.51.100.1 is refused');
      assert.equal(Buffer.concat(answers).length, 0);
      const stats = await proxiedGet(broker.ports.webSocket, '/api/stats');
      assert.equal(stats.body.counters.limitHits.MAX_CONNECTIONS_PER_ADDRESS, 1);
      assert.ok(broker.lines.some((line) => line.includes('MAX_CONNECTIONS_PER_ADDRESS') && line.includes('connection from 198.51.100.1 refused')), broker.lines.join('\n'));
      // One of 198.51.100.1 closes: its place is free again.
      clients[0]!.close();
      await clients[0]!.waitClosed();
      await waitUntil(async () => {
        const again = await ProxiedClient.open('tcp', broker.ports.socket, { header: proxyHeader('198.51.100.1') });
        const answer = await again.request({ auth: { dt: { client_name: 'limited-7' } } }, 'authAck').catch(() => null);
        if (answer) clients.push(again);
        else again.close();
        return answer?.['st'] === 1;
      }, 5000, 'a new connection from 198.51.100.1 after one closed');
    } finally {
      for (const client of clients) client.close();
      await broker.destroy();
    }
  });
});
