/**
 * Test harness: a real broker on free ports with a fresh SQLite file, and a
 * raw protocol client over real TCP, TLS or WebSocket sockets that records
 * every packet it receives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Config } from '../config';
import type { Application } from '../hooks';
import { createLogger } from '../log';
import { sampleApplication } from '../sample-app';
import { startServer, type RunningServer } from '../server';
import { TokenSigner } from '../tokens';
import { NulFramer } from '../../shared/framer';

export const TEST_SECRET = 'test-secret';

export interface TestBroker extends RunningServer {
  dir: string;
  tokens: TokenSigner;
  /** Closes the broker and deletes its files. */
  destroy(): Promise<void>;
  /** QoS 1 copies stored for one client. */
  queuedFor(clientId: string): Promise<number>;
}

/** A broker with the sample application on free ports, unless `application` replaces it. */
export async function startTestBroker(config: Partial<Config> = {}, application?: Partial<Application>, dir?: string): Promise<TestBroker> {
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'jmqt-test-'));
  const tokens = new TokenSigner(TEST_SECRET, 3600);
  const log = createLogger(process.env['JMQT_TEST_LOG'] ?? 'ERR', '');
  const server = await startServer({
    config: { SOCKET_PORT: 0, WEBSOCKET_PORT: 0, SSL_SOCKET_PORT: 0, SSL_WEBSOCKET_PORT: 0, BIND_ADDRESS: '127.0.0.1', SQLITE_PATH: join(folder, 'jmqt.db'), SQLITE_SYNC: 'normal', ...config },
    application: application ?? sampleApplication(tokens, log),
    logger: log,
  });
  return Object.assign(server, {
    dir: folder,
    tokens,
    queuedFor: async (clientId: string) => (await server.broker.storage.queuedFor(clientId)).length,
    destroy: async () => {
      await server.close();
      if (!dir) rmSync(folder, { recursive: true, force: true });
    },
  });
}

export type Received = Record<string, Record<string, unknown>>;
export type Transport = 'tcp' | 'tls' | 'ws' | 'wss';

/** A protocol-level client: sends raw text or packets, awaits packets by predicate. */
export class RawClient {
  readonly received: Received[] = [];
  closed = false;
  private waiters: Array<{ match: (packet: Received) => boolean; resolve: (packet: Received) => void }> = [];
  private closeWaiters: Array<() => void> = [];
  private barriers = 0;
  private constructor(private readonly sendText: (text: string) => void, private readonly end: () => void) {}

  static async open(transport: Transport, port: number): Promise<RawClient> {
    if (transport === 'ws' || transport === 'wss') {
      const ws = new WebSocket(`${transport}://127.0.0.1:${port}/`, { rejectUnauthorized: false });
      const client = new RawClient((text) => ws.send(text), () => ws.close());
      ws.on('message', (data) => client.onText(data.toString()));
      ws.on('close', () => client.onClose());
      ws.on('error', () => client.onClose());
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      return client;
    }
    const socket: Socket = transport === 'tls'
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : tcpConnect({ host: '127.0.0.1', port });
    const client = new RawClient((text) => socket.write(text + '\0'), () => socket.end());
    const framer = new NulFramer(64 * 1024 * 1024);
    socket.on('data', (chunk) => framer.push(chunk, (frame) => client.onText(Buffer.from(frame).toString('utf8'))));
    socket.on('close', () => client.onClose());
    socket.on('error', () => client.onClose());
    client.rawSocket = socket;
    await new Promise((resolve, reject) => { socket.once(transport === 'tls' ? 'secureConnect' : 'connect', resolve); socket.once('error', reject); });
    return client;
  }

  /** The TCP socket, to send bytes that are not a packet. */
  rawSocket: Socket | null = null;

  send(packet: Record<string, unknown>): void {
    this.sendText(JSON.stringify(packet));
  }

  sendRaw(text: string): void {
    this.sendText(text);
  }

  close(): void {
    this.end();
  }

  private onText(text: string): void {
    const packet = JSON.parse(text) as Received;
    this.received.push(packet);
    const index = this.waiters.findIndex((waiter) => waiter.match(packet));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter.resolve(packet);
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }

  /** The next packet (received from now on) of `type` that matches `fields`; fails after `ms`. */
  next(type: string, fields: Record<string, unknown> = {}, ms = 3000): Promise<Record<string, unknown>> {
    const match = (packet: Received) => type in packet && Object.entries(fields).every(([key, value]) => JSON.stringify(packet[type][key]) === JSON.stringify(value));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        reject(new Error(`no ${type} ${JSON.stringify(fields)} within ${ms} ms; received: ${JSON.stringify(this.received.slice(-5))}`));
      }, ms);
      const done = (packet: Received) => {
        clearTimeout(timer);
        resolve(packet[type]);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  /** Like next(), but a matching packet received earlier counts too. */
  seen(type: string, fields: Record<string, unknown> = {}, ms = 3000): Promise<Record<string, unknown>> {
    const earlier = this.all(type).find((packet) => Object.entries(fields).every(([key, value]) => JSON.stringify(packet[key]) === JSON.stringify(value)));
    return earlier ? Promise.resolve(earlier) : this.next(type, fields, ms);
  }

  /** Sends `packet` and awaits the answer of `type` matching `fields`. */
  request(packet: Record<string, unknown>, type: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const answer = this.next(type, fields);
    this.send(packet);
    return answer;
  }

  /** Packets of `type` received so far. */
  all(type: string): Array<Record<string, unknown>> {
    return this.received.filter((packet) => type in packet).map((packet) => packet[type]);
  }

  waitClosed(ms = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
      this.closeWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  /**
   * Resolves once the broker has handled every packet sent on this connection
   * before it, and this client holds every packet the broker wrote to it
   * meanwhile: one connection's packets are handled in order and its answers
   * written in order. The way to show that nothing (more) arrives here: for a
   * packet another connection would cause, barrier that one first, then this
   * one. In a session it is `hb` → `hbAck`; `beforeSession`, where hb gets no
   * answer, a `sub` the broker refuses with 7 and that changes nothing.
   * Rejects at once if the connection closes first.
   */
  barrier({ beforeSession = false, ms = 3000 }: { beforeSession?: boolean; ms?: number } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('barrier on a closed connection'));
    const cn = `barrier-${++this.barriers}`;
    const match = beforeSession
      ? (packet: Received) => 'subAck' in packet && packet['subAck']['cn'] === cn
      : (packet: Received) => 'hbAck' in packet;
    return new Promise((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== answered);
        this.closeWaiters = this.closeWaiters.filter((waiter) => waiter !== closed);
        if (error) reject(error);
        else resolve();
      };
      const answered = (packet: Received) => {
        const status = packet['subAck']?.['st'];
        settle(beforeSession && status !== 7 ? new Error(`the barrier sub was answered ${status}, not 7: is there a session already?`) : undefined);
      };
      const closed = () => settle(new Error('connection closed before the barrier was answered'));
      const timer = setTimeout(() => settle(new Error(`no answer to the barrier within ${ms} ms; received: ${JSON.stringify(this.received.slice(-5))}`)), ms);
      this.waiters.push({ match, resolve: answered });
      this.closeWaiters.push(closed);
      this.send(beforeSession ? { sub: { cn, pr: 0 } } : { hb: {} });
    });
  }

  /** Lets `ms` pass, for a timer under test (idle timeout, connect deadline). Not to show that nothing arrives: barrier() does. */
  static pause(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** Polls `condition` (a fact outside any connection, such as broker state) until it holds; fails after `ms`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what = 'condition', ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** auth + conn with the sample application; answers the connected client. */
export async function connectClient(broker: TestBroker, clientId: string, transport: Transport = 'tcp'): Promise<RawClient> {
  const port = portOf(broker, transport);
  const client = await RawClient.open(transport, port);
  const authAck = await client.request({ auth: { dt: { client_name: clientId } } }, 'authAck');
  if (authAck['st'] !== 1) throw new Error(`auth failed: ${JSON.stringify(authAck)}`);
  const connAck = await client.request({ conn: { at: authAck['at'], cl: clientId } }, 'connAck');
  if (connAck['st'] !== 1) throw new Error(`conn failed: ${JSON.stringify(connAck)}`);
  return client;
}

export function portOf(broker: RunningServer, transport: Transport): number {
  const port = { tcp: broker.ports.socket, ws: broker.ports.webSocket, tls: broker.ports.sslSocket, wss: broker.ports.sslWebSocket }[transport];
  if (port === undefined) throw new Error(`${transport} is not enabled`);
  return port;
}
