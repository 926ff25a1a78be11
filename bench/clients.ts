/**
 * Raw-socket clients of the one load generator: JMQT over TCP (NUL framing)
 * and MQTT 3.1.1 (hand-written framing). Once a session is set up a client
 * only counts frames: 0x00 bytes for JMQT, PUBLISH fixed headers for MQTT.
 * A shape that needs the frame itself (QoS 1 acks, latency) sets a handler.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import * as mqtt from './mqtt';

export type BrokerKind = 'jmqt' | 'mosquitto' | 'aedes';

export interface Endpoint {
  kind: BrokerKind;
  port: number;
  /** JMQT WebSocket port (memory shape). */
  wsPort?: number;
  /** Broker process, for RSS and CPU. */
  pid: number;
}

const HOST = '127.0.0.1';
const SETUP_TIMEOUT_MS = 15_000;

/** Frames (JMQT) or PUBLISH bodies (MQTT) handed to a shape; `flags` is MQTT's low nibble. */
export type FrameHandler = (frame: Buffer, flags: number) => void;

export interface Conn {
  readonly socket: Socket;
  /** JMQT: frames received; MQTT: PUBLISH packets received. */
  received(): number;
  /** MQTT PUBACKs received (JMQT: see the handler). */
  pubacks: number;
  /** When set, every counted frame is also split out and handed over. */
  setHandler(handler: FrameHandler | null): void;
  write(bytes: Buffer): boolean;
  close(): Promise<void>;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: HOST, port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function closeSocket(socket: Socket, last?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    if (last) socket.end(last);
    else socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}

/** Settles with `start`'s answer; fails when the broker closes the socket first or after SETUP_TIMEOUT_MS. */
function answer<T>(socket: Socket, what: string, start: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('close', onClose);
    };
    const onClose = () => {
      done();
      reject(new Error(`${what}: the broker closed the connection`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: no answer within ${SETUP_TIMEOUT_MS} ms`));
    }, SETUP_TIMEOUT_MS);
    socket.once('close', onClose);
    start((value) => {
      done();
      resolve(value);
    });
  });
}

// ---------------------------------------------------------------- JMQT

export class JmqtConn implements Conn {
  pubacks = 0;
  private frames = 0;
  private handler: FrameHandler | null = null;
  private tail: Buffer | null = null;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
  }

  received(): number {
    return this.frames;
  }

  setHandler(handler: FrameHandler | null): void {
    this.handler = handler;
    this.tail = null;
  }

  write(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  close(): Promise<void> {
    return closeSocket(this.socket, Buffer.from('{"disconn":{}}\0'));
  }

  private onData(chunk: Buffer): void {
    if (this.handler === null) {
      let at = chunk.indexOf(0);
      while (at !== -1) {
        this.frames++;
        at = chunk.indexOf(0, at + 1);
      }
      return;
    }
    let start = 0;
    let at = chunk.indexOf(0);
    while (at !== -1) {
      let frame = chunk.subarray(start, at);
      if (this.tail !== null) {
        frame = Buffer.concat([this.tail, frame]);
        this.tail = null;
      }
      this.frames++;
      this.handler(frame, 0);
      if ((this.handler as FrameHandler | null) === null) return; // a setup step finished mid-chunk: nothing more is expected
      start = at + 1;
      at = chunk.indexOf(0, start);
    }
    if (start < chunk.length) this.tail = this.tail === null ? Buffer.from(chunk.subarray(start)) : Buffer.concat([this.tail, chunk.subarray(start)]);
  }

  /** Sends `packet` and resolves with the first answer of `type` (setup only: parses JSON). */
  request(packet: unknown, type: string): Promise<Record<string, unknown>> {
    return answer(this.socket, `JMQT ${type}`, (resolve: (value: Record<string, unknown>) => void) => {
      this.setHandler((frame) => {
        const parsed = JSON.parse(frame.toString('utf8')) as Record<string, Record<string, unknown>>;
        if (!(type in parsed)) return;
        this.setHandler(null);
        resolve(parsed[type]);
      });
      this.socket.write(JSON.stringify(packet) + '\0');
    });
  }
}

/** auth + conn with the bench application (the sample app's rules). */
export async function openJmqt(port: number, clientId: string): Promise<JmqtConn> {
  const conn = new JmqtConn(await openSocket(port));
  const authAck = await conn.request({ auth: { dt: { client_name: clientId } } }, 'authAck');
  if (authAck['st'] !== 1) throw new Error(`JMQT auth of ${clientId} failed: ${JSON.stringify(authAck)}`);
  const connAck = await conn.request({ conn: { at: authAck['at'], cl: clientId } }, 'connAck');
  if (connAck['st'] !== 1) throw new Error(`JMQT conn of ${clientId} failed: ${JSON.stringify(connAck)}`);
  return conn;
}

export const jmqtFrames = {
  pub(channel: string, payload: string): Buffer {
    return Buffer.from(JSON.stringify({ pub: { cn: channel, dt: payload } }) + '\0');
  },
  pubQos1(channel: string, payload: string, id: string): Buffer {
    return Buffer.from(JSON.stringify({ pub: { cn: channel, dt: payload, q: 1, id } }) + '\0');
  },
};

// ---------------------------------------------------------------- MQTT

export class MqttConn implements Conn {
  pubacks = 0;
  private readonly reader: mqtt.MqttReader;
  private handler: FrameHandler | null = null;
  private waiter: { type: number; resolve: (body: Buffer) => void } | null = null;

  constructor(readonly socket: Socket) {
    this.reader = new mqtt.MqttReader((type, flags, body) => this.onPacket(type, flags, body));
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', () => undefined);
  }

  received(): number {
    return this.reader.publishes;
  }

  setHandler(handler: FrameHandler | null): void {
    this.handler = handler;
    this.reader.keepPublish = handler !== null;
  }

  write(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  close(): Promise<void> {
    return closeSocket(this.socket, mqtt.DISCONNECT);
  }

  private onPacket(type: number, flags: number, body: Buffer): void {
    if (type === mqtt.MqttType.PUBACK) this.pubacks++;
    if (type === mqtt.MqttType.PUBLISH) {
      this.handler?.(body, flags);
      return;
    }
    if (this.waiter?.type === type) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve(body);
    }
  }

  request(bytes: Buffer, type: number, what: string): Promise<Buffer> {
    return answer(this.socket, what, (resolve: (value: Buffer) => void) => {
      this.waiter = { type, resolve };
      this.socket.write(bytes);
    });
  }
}

export async function openMqtt(port: number, clientId: string): Promise<MqttConn> {
  const conn = new MqttConn(await openSocket(port));
  const connack = await conn.request(mqtt.connect(clientId), mqtt.MqttType.CONNACK, 'MQTT CONNACK');
  if (connack[1] !== 0) throw new Error(`MQTT CONNECT of ${clientId} refused: return code ${connack[1]}`);
  return conn;
}

let nextPacketId = 1;

// ---------------------------------------------------------------- both

/** What a shape needs from either protocol. */
export interface Proto {
  kind: BrokerKind;
  open(clientId: string): Promise<Conn>;
  subscribe(conn: Conn, topic: string, qos: 0 | 1): Promise<void>;
  /** A QoS 0 publish, ready to write. */
  publish(topic: string, payload: string): Buffer;
  /** Topic or channel that reaches only `clientId` (JMQT `#client`, subscribed by the server). */
  p2pTopic(clientId: string): string;
  /** Whether the P2P topic needs a subscription by the client. */
  p2pNeedsSubscribe: boolean;
}

export function protoFor(endpoint: Endpoint): Proto {
  if (endpoint.kind === 'jmqt') {
    return {
      kind: 'jmqt',
      open: (clientId) => openJmqt(endpoint.port, clientId),
      async subscribe(conn, topic) {
        const ack = await (conn as JmqtConn).request({ sub: { cn: topic, pr: 0 } }, 'subAck');
        if (ack['st'] !== 1) throw new Error(`JMQT sub ${topic} failed: ${JSON.stringify(ack)}`);
      },
      publish: (topic, payload) => jmqtFrames.pub(topic, payload),
      p2pTopic: (clientId) => `#${clientId}`,
      p2pNeedsSubscribe: false,
    };
  }
  return {
    kind: endpoint.kind,
    open: (clientId) => openMqtt(endpoint.port, clientId),
    async subscribe(conn, topic, qos) {
      const id = nextPacketId = (nextPacketId % 65535) + 1;
      const suback = await (conn as MqttConn).request(mqtt.subscribe(id, topic, qos), mqtt.MqttType.SUBACK, `MQTT SUBACK ${topic}`);
      if (suback[2] !== qos) throw new Error(`MQTT SUBSCRIBE ${topic} granted ${suback[2]}, wanted ${qos}`);
    },
    publish: (topic, payload) => mqtt.publish(topic, Buffer.from(payload)),
    p2pTopic: (clientId) => `p2p/${clientId}`,
    p2pNeedsSubscribe: true,
  };
}

/** Opens `count` clients, `concurrency` at a time. */
export async function openMany(count: number, concurrency: number, open: (index: number) => Promise<Conn>): Promise<Conn[]> {
  const conns: Conn[] = new Array(count);
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (next < count && failure === null) {
      const index = next++;
      try {
        conns[index] = await open(index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== null) {
    await closeAll(conns);
    throw failure;
  }
  return conns;
}

export async function closeAll(conns: Conn[]): Promise<void> {
  await Promise.all(conns.filter(Boolean).map((conn) => conn.close()));
}
