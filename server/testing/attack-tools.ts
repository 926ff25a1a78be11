/**
 * Tools for the attack tests (server/tests/attack-*.test.ts): a broker in a
 * child process whose memory and file descriptors can be read from /proc, a
 * protocol client that can bind a source address (127.0.0.2…254 count as
 * other "clients" for the per-address limits) and stop reading its socket,
 * hand-written WebSocket handshakes and frames on raw sockets, an hb
 * round-trip probe, and small statistics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { NulFramer } from '../../shared/framer';
import { TokenSigner } from '../tokens';
import { makeCertificate } from './certificate';
import { TEST_SECRET, type Received, type Transport } from './harness';
import { freePort, spawnBroker, type BrokerProcess } from './process';

/** Whether a TCP connection to `port` opens. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Tokens the child broker accepts: it runs the sample application with AUTH_SECRET = TEST_SECRET. */
export const tokens = new TokenSigner(TEST_SECRET, 3600);

export interface ChildPorts {
  tcp: number;
  ws: number;
  tls?: number;
  wss?: number;
}

export interface StatsAnswer {
  connections: { total: number; sessions: number };
  retained: number;
  queuedQos1: number;
  counters: {
    droppedPushes: number;
    deferredPushes: number;
    throttledClients: number;
    invalidUtf8: number;
    droppedPackets: number;
    duplicatePublishes: number;
    messagesIn: number;
    limitHits: Record<string, number>;
  };
  memory: { rssBytes: number };
}

export interface ClientsAnswer {
  clients: Array<{ clientId: string; outboundBytes: number; queuedQos1: number }>;
}

/**
 * `npm run server` in a child process: defaults everywhere except the ports,
 * the SQLite path, AUTH_SECRET (so the tests can sign tokens) and whatever
 * `env` sets (JMQT_ keys without the prefix). Note that SQLITE_SYNC keeps its
 * production default (`full`), unlike startTestBroker.
 */
export class ChildBroker {
  private constructor(readonly proc: BrokerProcess, readonly ports: ChildPorts, readonly dir: string) {}

  /** `options.dir`: the folder of an earlier broker's database (see stop(true)), to start on its state. */
  static async start(config: Record<string, string | number> = {}, options: { ssl?: boolean; dir?: string } = {}): Promise<ChildBroker> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'jmqt-attack-'));
    const ports: ChildPorts = { tcp: await freePort(), ws: await freePort() };
    const env: Record<string, string> = {
      JMQT_SOCKET_PORT: String(ports.tcp),
      JMQT_WEBSOCKET_PORT: String(ports.ws),
      JMQT_BIND_ADDRESS: '127.0.0.1',
      JMQT_SQLITE_PATH: join(dir, 'jmqt.db'),
      JMQT_AUTH_SECRET: TEST_SECRET,
      JMQT_LOG_MODE: 'WRN',
      JMQT_DASHBOARD_PATH: join(dir, 'no-dashboard'),
    };
    if (options.ssl) {
      const { cert, key } = makeCertificate(dir);
      ports.tls = await freePort();
      ports.wss = await freePort();
      Object.assign(env, { JMQT_ENABLE_SSL: '1', JMQT_SSL_CERT_PATH: cert, JMQT_SSL_KEY_PATH: key, JMQT_SSL_SOCKET_PORT: String(ports.tls), JMQT_SSL_WEBSOCKET_PORT: String(ports.wss) });
    }
    for (const [key, value] of Object.entries(config)) env[`JMQT_${key}`] = String(value);
    try {
      const broker = new ChildBroker(await spawnBroker(env), ports, dir);
      // spawnBroker waits for the socket port, the first to listen; the others follow it.
      for (const port of Object.values(ports)) await until(() => accepts(port), 10_000, `port ${port} listening`);
      return broker;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get pid(): number {
    return this.proc.child.pid!;
  }

  /** The process has not exited (crashed). */
  get alive(): boolean {
    return this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  output(): string {
    return this.proc.output();
  }

  private status(field: string): number {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    if (!match) throw new Error(`no ${field} in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  /** Resident set size now, bytes. */
  rss(): number {
    return this.status('VmRSS');
  }

  /** Peak resident set size since the last resetPeak(), bytes (VmHWM). */
  peakRss(): number {
    return this.status('VmHWM');
  }

  /** Resets the peak (VmHWM) to the current RSS (Linux clear_refs 5) and answers the current RSS. */
  resetPeak(): number {
    writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
    return this.rss();
  }

  /** Open file descriptors of the broker. */
  fds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  async api<T>(path: string): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${this.ports.ws}${path}`);
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
    return await response.json() as T;
  }

  stats(): Promise<StatsAnswer> {
    return this.api<StatsAnswer>('/api/stats');
  }

  async outboundBytesOf(clientId: string): Promise<number | undefined> {
    const answer = await this.api<ClientsAnswer>('/api/clients');
    return answer.clients.find((client) => client.clientId === clientId)?.outboundBytes;
  }

  port(transport: Transport): number {
    const port = { tcp: this.ports.tcp, ws: this.ports.ws, tls: this.ports.tls, wss: this.ports.wss }[transport];
    if (port === undefined) throw new Error(`${transport} is not enabled`);
    return port;
  }

  /** Stops the process; its folder (database) is deleted unless `keep`. */
  async stop(keep = false): Promise<void> {
    if (this.alive) {
      this.proc.child.kill('SIGTERM');
      const killer = setTimeout(() => this.proc.child.kill('SIGKILL'), 10_000);
      await this.proc.exited;
      clearTimeout(killer);
    }
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface PeerOptions {
  /** Source address, e.g. 127.0.0.2, to count as another client. */
  localAddress?: string;
  /** WebSocket Origin header. */
  origin?: string;
  /** Keep every received packet in `received` (default true); counts per type are kept regardless. */
  keep?: boolean;
  /** Called with every packet received. */
  onPacket?: (packet: Received) => void;
}

/** A protocol client like harness RawClient, with a source address, pause/resume of reading, and bounded memory when asked. */
export class Peer {
  readonly received: Received[] = [];
  readonly counts = new Map<string, number>();
  closed = false;
  /** WebSocket close code from the broker. */
  closeCode: number | undefined;
  /** Called with every packet received. */
  onPacket: ((packet: Received) => void) | undefined;
  /** The TCP (or TLS) socket under the connection, to write bytes that are not packets. */
  socket!: Socket;
  private waiters: Array<{ match: (packet: Received) => boolean; resolve: (packet: Received) => void }> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(
    private readonly options: PeerOptions,
    private readonly sendText: (text: string) => void,
    readonly pause: () => void,
    readonly resume: () => void,
    readonly destroy: () => void,
  ) {
    this.onPacket = options.onPacket;
  }

  static async open(transport: Transport, port: number, options: PeerOptions = {}): Promise<Peer> {
    if (transport === 'ws' || transport === 'wss') {
      const ws = new WebSocket(`${transport}://127.0.0.1:${port}/`, {
        rejectUnauthorized: false, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        ...(options.origin ? { origin: options.origin } : {}),
      });
      const peer = new Peer(options, (text) => ws.send(text), () => ws.pause(), () => ws.resume(), () => ws.terminate());
      ws.on('message', (data) => peer.onText(data.toString()));
      ws.on('close', (code) => { peer.closeCode = code; peer.onClose(); });
      ws.on('error', () => peer.onClose());
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      peer.socket = (ws as unknown as { _socket: Socket })._socket;
      return peer;
    }
    const base = { host: '127.0.0.1', port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
    const socket: Socket = transport === 'tls' ? tlsConnect({ ...base, rejectUnauthorized: false }) : tcpConnect(base);
    const peer = new Peer(options, (text) => socket.write(text + '\0'), () => socket.pause(), () => socket.resume(), () => socket.destroy());
    peer.socket = socket;
    const framer = new NulFramer(64 * 1024 * 1024);
    socket.on('data', (chunk) => framer.push(chunk, (frame) => peer.onText(Buffer.from(frame).toString('utf8'))));
    socket.on('close', () => peer.onClose());
    socket.on('error', () => peer.onClose());
    await new Promise((resolve, reject) => { socket.once(transport === 'tls' ? 'secureConnect' : 'connect', resolve); socket.once('error', reject); });
    return peer;
  }

  send(packet: Record<string, unknown>): void {
    this.sendText(JSON.stringify(packet));
  }

  sendRaw(text: string): void {
    this.sendText(text);
  }

  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  /** Packets received so far, of every type. */
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  private onText(text: string): void {
    const packet = JSON.parse(text) as Received;
    const type = Object.keys(packet)[0]!;
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    if (this.options.keep !== false) this.received.push(packet);
    this.onPacket?.(packet);
    const index = this.waiters.findIndex((waiter) => waiter.match(packet));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter!.resolve(packet);
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }

  /** The next packet of `type` (received from now on) whose fields match; fails after `ms`. */
  next(type: string, fields: Record<string, unknown> = {}, ms = 5000): Promise<Record<string, unknown>> {
    const match = (packet: Received) => type in packet && Object.entries(fields).every(([key, value]) => JSON.stringify(packet[type]![key]) === JSON.stringify(value));
    return new Promise((resolve, reject) => {
      const done = (packet: Received) => {
        clearTimeout(timer);
        resolve(packet[type]!);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        reject(new Error(`no ${type} ${JSON.stringify(fields)} within ${ms} ms (closed: ${this.closed})`));
      }, ms);
      this.waiters.push({ match, resolve: done });
    });
  }

  /** Like next(), but a matching packet received earlier counts too (needs `keep`). */
  seen(type: string, fields: Record<string, unknown> = {}, ms = 5000): Promise<Record<string, unknown>> {
    const earlier = this.all(type).find((packet) => Object.entries(fields).every(([key, value]) => JSON.stringify(packet[key]) === JSON.stringify(value)));
    return earlier ? Promise.resolve(earlier) : this.next(type, fields, ms);
  }

  request(packet: Record<string, unknown>, type: string, fields: Record<string, unknown> = {}, ms = 5000): Promise<Record<string, unknown>> {
    const answer = this.next(type, fields, ms);
    this.send(packet);
    return answer;
  }

  all(type: string): Array<Record<string, unknown>> {
    return this.received.filter((packet) => type in packet).map((packet) => packet[type]!);
  }

  /** hb → hbAck: every packet sent before it has been handled (one connection is handled in order). Answers the round trip, ms. */
  async barrier(ms = 10_000): Promise<number> {
    const started = performance.now();
    await this.request({ hb: {} }, 'hbAck', {}, ms);
    return performance.now() - started;
  }

  waitClosed(ms = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
      this.closeWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }
}

/** auth + conn with the sample application. */
export async function connectPeer(port: number, clientId: string, transport: Transport = 'tcp', options: PeerOptions = {}): Promise<Peer> {
  const peer = await Peer.open(transport, port, options);
  const authAck = await peer.request({ auth: { dt: { client_name: clientId } } }, 'authAck');
  if (authAck['st'] !== 1) throw new Error(`auth failed: ${JSON.stringify(authAck)}`);
  const connAck = await peer.request({ conn: { at: authAck['at'], cl: clientId } }, 'connAck');
  if (connAck['st'] !== 1) throw new Error(`conn failed: ${JSON.stringify(connAck)}`);
  return peer;
}

/** Waits until `condition` holds, polling; fails with `what` after `ms`. */
export async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string, every = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export interface HbStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function statsOf(samples: number[]): HbStats {
  return { count: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples) };
}

const probeMain = fileURLToPath(new URL('./hb-probe-main.ts', import.meta.url));

/**
 * hb → hbAck round trips, one after another with a pause between, from a
 * process of its own (hb-probe-main.ts): the test's own work (building and
 * writing a flood) then cannot delay the round trips it measures, so what it
 * measures is the broker's doing.
 */
export class HbProbeProcess {
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => { this.output += text; });
    child.stderr!.on('data', (text: Buffer) => { this.output += text.toString(); });
  }

  static async start(port: number, clientId: string, everyMs = 20): Promise<HbProbeProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', probeMain, String(port), clientId, String(everyMs)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const probe = new HbProbeProcess(child);
    let exited = false;
    child.once('exit', () => { exited = true; });
    await until(() => probe.output.includes('ready\n') || exited, 20_000, 'the hb probe process starting');
    if (exited) throw new Error(`the hb probe process failed: ${probe.output}`);
    return probe;
  }

  async stop(): Promise<HbStats & { samples: number[] }> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.write('stop\n');
    await exited;
    const line = this.output.split('\n').find((text) => text.startsWith('['));
    if (!line) throw new Error(`the hb probe process printed no samples: ${this.output}`);
    const samples = (JSON.parse(line) as Array<number | null>).map((ms) => ms ?? Infinity);
    return { ...statsOf(samples), samples };
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const MiB = 1024 * 1024;
export const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

// ---- WebSocket and HTTP by hand ----

export interface RawSocket {
  socket: Socket;
  /** Every byte received so far. */
  bytes(): Buffer;
  /** When 'close' came (performance.now()), else undefined. */
  closedAt: number | undefined;
  error: string | undefined;
  /** The client saw the server's FIN (or the close came with one). */
  ended: boolean;
  closed: Promise<void>;
  connected: Promise<boolean>;
}

/** A TCP socket to `port`, recording what it receives and when it closes; errors never throw. */
export function rawSocket(port: number, options: { localAddress?: string; allowHalfOpen?: boolean } = {}): RawSocket {
  const chunks: Buffer[] = [];
  const socket = tcpConnect({ host: '127.0.0.1', port, allowHalfOpen: options.allowHalfOpen ?? false, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
  const raw: RawSocket = {
    socket,
    bytes: () => Buffer.concat(chunks),
    closedAt: undefined,
    error: undefined,
    ended: false,
    closed: new Promise((resolve) => socket.once('close', () => { raw.closedAt = performance.now(); resolve(); })),
    connected: new Promise((resolve) => { socket.once('connect', () => resolve(true)); socket.once('close', () => resolve(false)); }),
  };
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('end', () => { raw.ended = true; });
  socket.on('error', (error: Error & { code?: string }) => { raw.error = error.code ?? error.message; });
  return raw;
}

export function upgradeRequest(options: { port: number; path?: string; origin?: string; key?: string }): string {
  const lines = [
    `GET ${options.path ?? '/'} HTTP/1.1`,
    `Host: 127.0.0.1:${options.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${options.key ?? 'dGhlIHNhbXBsZSBub25jZQ=='}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (options.origin !== undefined) lines.push(`Origin: ${options.origin}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

export const Opcode = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9 } as const;

/** One masked client frame (RFC 6455 5.2), FIN set. */
export function clientFrame(opcode: number, payload: Buffer, mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d])): Buffer {
  const head: number[] = [0x80 | opcode];
  let extended = Buffer.alloc(0);
  if (payload.length < 126) {
    head.push(0x80 | payload.length);
  } else if (payload.length < 65536) {
    head.push(0x80 | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(payload.length);
  } else {
    head.push(0x80 | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(BigInt(payload.length));
  }
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), extended, mask, body]);
}

/** A text frame whose payload is not UTF-8: RFC 6455 8.1 says the receiver fails the connection (1007). */
export const INVALID_UTF8_TEXT = clientFrame(Opcode.text, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]));

/** The HTTP status of the answer's head in `bytes`, or undefined when none came. */
export function httpStatus(bytes: Buffer): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(bytes.subarray(0, 64).toString('latin1'));
  return match ? Number(match[1]) : undefined;
}

/** The server frames after the HTTP head in `bytes` (unmasked, RFC 6455 5.1). */
export function serverFrames(bytes: Buffer): Array<{ opcode: number; payload: Buffer }> {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return [];
  let rest = bytes.subarray(headEnd + 4);
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  while (rest.length >= 2) {
    let length = rest[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (rest.length < 4) break;
      length = rest.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (rest.length < 10) break;
      length = Number(rest.readBigUInt64BE(2));
      offset = 10;
    }
    if (rest.length < offset + length) break;
    frames.push({ opcode: rest[0]! & 0x0f, payload: rest.subarray(offset, offset + length) });
    rest = rest.subarray(offset + length);
  }
  return frames;
}

/** The close code of the first close frame in `bytes`, if any. */
export function closeCodeOf(bytes: Buffer): number | undefined {
  const close = serverFrames(bytes).find((frame) => frame.opcode === Opcode.close);
  return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
}

/** Resolves at the start of the next wall-clock second (the per-address rate counts per calendar second). */
export async function nextSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 5);
}
