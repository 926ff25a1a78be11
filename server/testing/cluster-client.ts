/**
 * A protocol client for the cluster tests: speaks JMQT over TCP, TLS,
 * WebSocket or TLS WebSocket, reconnects (auth + conn) by itself when its
 * node goes away, and records every push.
 */
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { NulFramer } from '../../shared/framer';
import { sleep } from '../../tools/wait';

export type ClientTransport = 'tcp' | 'tls' | 'ws' | 'wss';

export interface PushRecord {
  cn: string;
  dt: any;
  cl: string;
  q?: number;
  id?: string;
  rt?: number;
}

export interface ClusterClientOptions {
  transport?: ClientTransport;
  /** Sends pushAck for every QoS 1 push. Default true. */
  autoAck?: boolean;
  /** After a close it did not ask for, opens a new connection (auth + conn) on the same port, for up to `reconnectForMs`. Default false. */
  reconnect?: boolean;
  reconnectForMs?: number;
  /** hb interval, ms. Default 4000 (the brokers' TIMEOUT_SECONDS is 15). */
  heartbeatMs?: number;
  /** Per request, ms. Default 10000. */
  requestMs?: number;
}

type Packet = Record<string, Record<string, any>>;

interface Link {
  send(text: string): void;
  end(): void;
  destroy(): void;
}

interface Waiter {
  type: string;
  match: (fields: Record<string, any>) => boolean;
  resolve: (fields: Record<string, any>) => void;
  reject: (error: Error) => void;
  link: Link;
}

/**
 * A JMQT client for cluster tests: auth with the sample application, conn,
 * answers every QoS 1 push with pushAck, keeps its session with hb, records
 * every push, and (optionally) reconnects by itself, as a real client behind
 * a load balancer would.
 */
export class ClusterClient {
  readonly pushes: PushRecord[] = [];
  /** Sessions opened after the first. */
  reconnects = 0;
  /** Connections that ended without close() being called. */
  drops = 0;
  private link: Link | null = null;
  private waiters: Waiter[] = [];
  private wanted = true;
  private reconnecting: Promise<void> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private closeWaiters: Array<() => void> = [];
  private readonly options: Required<ClusterClientOptions>;

  private constructor(readonly port: number, readonly clientId: string, options: ClusterClientOptions) {
    this.options = { transport: 'tcp', autoAck: true, reconnect: false, reconnectForMs: 30_000, heartbeatMs: 4000, requestMs: 10_000, ...options };
  }

  /** Opens a session; rejects when auth or conn is refused. */
  static async connect(port: number, clientId: string, options: ClusterClientOptions = {}): Promise<ClusterClient> {
    const client = new ClusterClient(port, clientId, options);
    await client.openSession();
    client.heartbeat = setInterval(() => { if (client.link) client.send({ hb: {} }); }, client.options.heartbeatMs);
    client.heartbeat.unref();
    return client;
  }

  /** Whether a connection with a session is open now. */
  get connected(): boolean {
    return this.link !== null;
  }

  send(packet: Record<string, unknown>): void {
    this.link?.send(JSON.stringify(packet));
  }

  /** Sends `packet` and resolves with the fields of the first answer of `type` matching `fields`. */
  request(packet: Record<string, unknown>, type: string, fields: Record<string, unknown> = {}, ms = this.options.requestMs): Promise<Record<string, any>> {
    const link = this.link;
    if (!link) return Promise.reject(new Error(`${this.clientId}: not connected`));
    const answer = this.expect(link, type, fields, ms);
    link.send(JSON.stringify(packet));
    return answer;
  }

  async subscribe(channel: string, persistent = false): Promise<number> {
    return (await this.request({ sub: { cn: channel, pr: persistent ? 1 : 0 } }, 'subAck', { cn: channel }))['st'];
  }

  /** QoS 1 (or any pub with an id): resolves with the pubAck status. QoS 0 without id: sent, resolves 1. */
  async publish(channel: string, data: unknown, options: { q?: 0 | 1; id?: string; rt?: boolean } = {}): Promise<number> {
    const pub: Record<string, unknown> = { cn: channel, dt: data, q: options.q ?? 0 };
    if (options.rt) pub['rt'] = 1;
    if (options.id !== undefined) pub['id'] = options.id;
    if (options.id === undefined) {
      if (options.q === 1) throw new Error('a QoS 1 pub needs an id');
      this.send({ pub });
      return 1;
    }
    return (await this.request({ pub }, 'pubAck', { id: options.id }))['st'];
  }

  /** Answer (`dt`) of a control channel request. */
  async control(channel: string, data: unknown = {}): Promise<Record<string, any>> {
    const id = randomBytes(4).toString('hex');
    return this.request({ pub: { cn: channel, dt: data, id } }, 'pubAck', { id });
  }

  pushesOn(channel: string): PushRecord[] {
    return this.pushes.filter((push) => push.cn === channel);
  }

  /** Ends the session with disconn; no reconnect. */
  close(): void {
    this.wanted = false;
    this.stopHeartbeat();
    const link = this.link;
    this.link = null;
    if (link) {
      link.send(JSON.stringify({ disconn: {} }));
      link.end();
    }
    this.settleClosed();
  }

  /** Drops the connection without a word (as a crash would); no reconnect. */
  destroy(): void {
    this.wanted = false;
    this.stopHeartbeat();
    this.link?.destroy();
    this.link = null;
    this.settleClosed();
  }

  /** Resolves once the current connection is gone (closed by the server, or by us). */
  waitClosed(ms = 5000): Promise<void> {
    if (!this.link) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.clientId}: connection still open after ${ms} ms`)), ms);
      this.closeWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  /** Resolves once a reconnection in progress has finished (or failed). */
  async settled(): Promise<void> {
    await this.reconnecting;
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private settleClosed(): void {
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }

  private expect(link: Link, type: string, fields: Record<string, unknown>, ms: number): Promise<Record<string, any>> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        type, link,
        match: (got) => Object.entries(fields).every(([key, value]) => JSON.stringify(got[key]) === JSON.stringify(value)),
        resolve: (got) => { clearTimeout(timer); resolve(got); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(new Error(`${this.clientId}: no ${type} ${JSON.stringify(fields)} within ${ms} ms`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /** auth + conn on a new connection; on success it becomes the client's link. */
  private async openSession(): Promise<void> {
    const link = await this.openLink();
    try {
      const authAck = this.expect(link, 'authAck', {}, this.options.requestMs);
      link.send(JSON.stringify({ auth: { dt: { client_name: this.clientId } } }));
      const auth = await authAck;
      if (auth['st'] !== 1) throw new Error(`${this.clientId}: auth refused with ${auth['st']}`);
      const connAck = this.expect(link, 'connAck', {}, this.options.requestMs);
      link.send(JSON.stringify({ conn: { at: auth['at'], cl: this.clientId } }));
      const conn = await connAck;
      if (conn['st'] !== 1) throw Object.assign(new Error(`${this.clientId}: conn refused with ${conn['st']}`), { status: conn['st'] });
      if (!this.wanted) throw new Error(`${this.clientId}: closed meanwhile`);
      this.link = link;
    } catch (error) {
      link.destroy();
      throw error;
    }
  }

  private openLink(): Promise<Link> {
    const { transport } = this.options;
    return new Promise((resolve, reject) => {
      let link: Link;
      const onText = (text: string) => this.onText(link, text);
      const onClose = (detail = '') => this.onClose(link, detail);
      if (transport === 'ws' || transport === 'wss') {
        const ws = new WebSocket(`${transport}://127.0.0.1:${this.port}/`, { rejectUnauthorized: false });
        link = { send: (text) => ws.readyState === WebSocket.OPEN && ws.send(text), end: () => ws.close(), destroy: () => ws.terminate() };
        ws.on('message', (data) => onText(data.toString()));
        ws.once('open', () => resolve(link));
        ws.once('error', (error) => { reject(error); onClose(error.message); });
        ws.once('close', (code, reason) => onClose(`code ${code}${reason.length > 0 ? `, ${reason.toString()}` : ''}`));
        return;
      }
      const socket = transport === 'tls'
        ? tlsConnect({ host: '127.0.0.1', port: this.port, rejectUnauthorized: false })
        : tcpConnect({ host: '127.0.0.1', port: this.port });
      socket.setNoDelay(true);
      link = { send: (text) => { if (!socket.destroyed) socket.write(text + '\0'); }, end: () => socket.end(), destroy: () => socket.destroy() };
      const framer = new NulFramer(64 * 1024 * 1024);
      socket.on('data', (chunk) => framer.push(chunk, (frame) => onText(Buffer.from(frame).toString('utf8'))));
      socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => resolve(link));
      socket.once('error', (error) => { reject(error); });
      socket.once('close', () => onClose());
    });
  }

  private onText(link: Link, text: string): void {
    let packet: Packet;
    try {
      packet = JSON.parse(text) as Packet;
    } catch {
      return;
    }
    const [type] = Object.keys(packet);
    if (!type) return;
    const fields = packet[type]!;
    if (type === 'push') {
      this.pushes.push(fields as PushRecord);
      if (fields['q'] === 1 && this.options.autoAck) link.send(JSON.stringify({ pushAck: { id: fields['id'] } }));
      return;
    }
    const index = this.waiters.findIndex((waiter) => waiter.link === link && waiter.type === type && waiter.match(fields));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(fields);
  }

  private onClose(link: Link, detail: string): void {
    const why = `${this.clientId}: connection closed${detail ? ` (${detail})` : ''}`;
    for (const waiter of this.waiters.filter((other) => other.link === link)) waiter.reject(new Error(why));
    this.waiters = this.waiters.filter((other) => other.link !== link);
    if (this.link !== link) return;
    this.link = null;
    this.settleClosed();
    if (!this.wanted) return;
    this.drops++;
    if (this.options.reconnect) this.reconnecting = this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const deadline = Date.now() + this.options.reconnectForMs;
    let delay = 50;
    while (this.wanted && Date.now() < deadline) {
      try {
        await this.openSession();
        this.reconnects++;
        return;
      } catch {
        await sleep(delay);
        delay = Math.min(delay * 2, 500);
      }
    }
  }
}

/** Opens `ids.length` clients on `port`, `parallel` at a time. */
export async function connectMany(port: number, ids: string[], options: ClusterClientOptions = {}, parallel = 25): Promise<ClusterClient[]> {
  const clients: ClusterClient[] = new Array(ids.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, ids.length) }, async () => {
    while (next < ids.length) {
      const index = next++;
      clients[index] = await ClusterClient.connect(port, ids[index]!, options);
    }
  }));
  return clients;
}

/** `name` as a unique client id or channel of this run. */
export function unique(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}
