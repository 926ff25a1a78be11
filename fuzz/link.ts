/**
 * A raw connection to the broker over any of its four transports, written by
 * hand so that attacks control every byte: TCP and TLS sockets carry
 * NUL-terminated packets; WebSocket and TLS WebSocket do the RFC 6455
 * handshake by hand and then carry frames built by ws-frames.ts. Every link
 * opened is tracked, so a run can end them all.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { NulFramer } from '../shared/framer';
import { Random } from './random';
import { FrameParser, Opcode, frame, handshakeRequest, type FrameOptions, type HandshakeOptions } from './ws-frames';

export type Transport = 'tcp' | 'tls' | 'ws' | 'wss';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'tls', 'ws', 'wss'];

export const isWebSocket = (transport: Transport) => transport === 'ws' || transport === 'wss';
export const isSecure = (transport: Transport) => transport === 'tls' || transport === 'wss';

/** The broker's host; every listener is bound to it. */
export const BROKER_HOST = '127.0.0.1';

export interface Endpoint {
  port: number;
  secure: boolean;
  /** Source address (127.0.0.x). */
  localAddress: string;
}

/** Every socket a fuzzer part opened and has not seen closed, to end them all at the end of a run. */
const liveSockets = new Set<Socket>();

/** Destroys every socket still open (FIN), but those in `keep`. */
export function destroySockets(keep: ReadonlySet<Socket> = new Set()): void {
  for (const socket of liveSockets) if (!keep.has(socket)) socket.destroy();
}

export interface RawSocket {
  /** What to read and write: the TLS socket, or the TCP socket itself. */
  socket: Socket | TLSSocket;
  /** The TCP socket underneath, for resetAndDestroy(). */
  tcp: Socket;
}

/**
 * A stream between a TLS socket and the TCP socket under it. TLS over the
 * TCP socket itself would take over its handle, and resetAndDestroy() on a
 * handle TLS holds crashes Node 20 (SIGSEGV); through this bridge TLS runs
 * on a JS stream and the TCP socket stays ours to reset.
 */
function bridgeTo(tcp: Socket): Duplex {
  const bridge = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      if (tcp.destroyed) return callback();
      tcp.write(chunk, () => callback());
    },
    read() {
      tcp.resume();
    },
    final(callback) {
      tcp.end();
      callback();
    },
    destroy(error, callback) {
      tcp.destroy();
      callback(error);
    },
  });
  tcp.on('data', (chunk: Buffer) => {
    if (!bridge.push(chunk)) tcp.pause();
  });
  tcp.on('end', () => bridge.push(null));
  tcp.on('close', () => bridge.destroy());
  return bridge;
}

/**
 * A TCP (and TLS) connection, resolved once the TCP handshake (and TLS
 * handshake) is done. The TLS socket runs over a bridge to a TCP socket of
 * our own, since resetAndDestroy() works only on a TCP handle.
 */
export function openSocket(endpoint: Endpoint, timeoutMs = 10_000): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const tcp = tcpConnect({ host: BROKER_HOST, port: endpoint.port, localAddress: endpoint.localAddress });
    liveSockets.add(tcp);
    tcp.once('close', () => liveSockets.delete(tcp));
    tcp.setNoDelay(true);
    const timer = setTimeout(() => {
      tcp.destroy();
      reject(new Error(`no connection to ${endpoint.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      tcp.destroy();
      reject(error);
    };
    tcp.once('error', fail);
    tcp.once('connect', () => {
      if (!endpoint.secure) {
        clearTimeout(timer);
        tcp.off('error', fail);
        tcp.on('error', () => undefined);
        resolve({ socket: tcp, tcp });
        return;
      }
      const tls = tlsConnect({ socket: bridgeTo(tcp), rejectUnauthorized: false, servername: 'localhost' });
      tls.once('error', fail);
      tls.once('secureConnect', () => {
        clearTimeout(timer);
        tcp.off('error', fail);
        tls.off('error', fail);
        tcp.on('error', () => undefined);
        tls.on('error', () => undefined);
        resolve({ socket: tls, tcp });
      });
    });
  });
}

/** Why a link ended, as far as this side can tell. */
export interface LinkEnd {
  /** WebSocket close code from the server, if it sent a close frame. */
  closeCode?: number;
}

export interface LinkOptions extends Omit<HandshakeOptions, 'host'> {
  transport: Transport;
  port: number;
  localAddress: string;
  /** Mask keys of WebSocket frames; default: a fixed key. */
  random?: Random;
  timeoutMs?: number;
}

/** One connection speaking JMQT (or not) over one transport. */
export class Link {
  readonly end: Promise<LinkEnd>;
  closed = false;
  closeCode: number | undefined;
  /** Bytes received, whatever they were. */
  bytesIn = 0;
  private resolveEnd!: (end: LinkEnd) => void;
  private readonly listeners = new Set<(text: string) => void>();
  private readonly framer = new NulFramer(64 * 1024 * 1024);
  private readonly parser = new FrameParser();
  private fragments: Buffer[] = [];

  private constructor(readonly transport: Transport, readonly raw: RawSocket, private readonly random: Random | undefined, head: Buffer) {
    this.end = new Promise((resolve) => { this.resolveEnd = resolve; });
    const socket = raw.socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.once('close', () => this.onClose());
    if (socket.destroyed) this.onClose();
    if (head.length > 0) this.onData(head);
    socket.resume();
  }

  static async open(options: LinkOptions): Promise<Link> {
    const raw = await openSocket({ port: options.port, secure: isSecure(options.transport), localAddress: options.localAddress }, options.timeoutMs);
    if (!isWebSocket(options.transport)) return new Link(options.transport, raw, options.random, Buffer.alloc(0));
    const key = options.key ?? (options.random ?? new Random(1)).bytes(16).toString('base64');
    const head = await upgrade(raw, handshakeRequest({ ...options, key, host: `${BROKER_HOST}:${options.port}` }), options.timeoutMs ?? 10_000);
    return new Link(options.transport, raw, options.random, head);
  }

  get socket(): Socket | TLSSocket {
    return this.raw.socket;
  }

  /** Calls `listener` with the text of every packet (NUL frame or WebSocket text/binary message). */
  onPacket(listener: (text: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends one packet's text: NUL-terminated on TCP, one text message on WebSocket. */
  sendText(text: string | Buffer): boolean {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    if (isWebSocket(this.transport)) return this.sendFrame({ opcode: Opcode.text, payload: bytes });
    return this.write(Buffer.concat([bytes, Buffer.from([0])]));
  }

  /** Writes one WebSocket frame (masked with a key of the link's generator unless the options say otherwise). */
  sendFrame(options: FrameOptions): boolean {
    const mask = options.mask === undefined && this.random ? this.random.bytes(4) : options.mask;
    return this.write(frame({ ...options, mask }));
  }

  /** Bytes as they are: no terminator, no framing. */
  write(bytes: Buffer | string): boolean {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(bytes);
  }

  /** Sends `text` and waits for the first packet for which `match` answers true. */
  request<T>(text: string, match: (packet: Record<string, Record<string, unknown>>) => T | undefined, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const stop = this.onPacket((received) => {
        let packet: Record<string, Record<string, unknown>>;
        try {
          packet = JSON.parse(received);
        } catch {
          return;
        }
        const value = match(packet);
        if (value === undefined) return;
        finish();
        resolve(value);
      });
      const timer = setTimeout(() => { finish(); reject(new Error(`no answer to ${text.slice(0, 60)} within ${timeoutMs} ms`)); }, timeoutMs);
      let finished = false;
      const finish = () => {
        finished = true;
        clearTimeout(timer);
        stop();
      };
      this.end.then(() => {
        if (finished) return;
        finish();
        reject(new Error('connection closed'));
      });
      this.sendText(text);
    });
  }

  /** Stops reading: the broker's writes pile up in the kernel, then in its own buffers. */
  stopReading(): void {
    this.socket.pause();
  }

  /** TCP RST now (SO_LINGER 0), without a FIN or a TLS close_notify. */
  reset(): void {
    if (this.raw.tcp.destroyed) return;
    try {
      this.raw.tcp.resetAndDestroy();
    } catch {
      this.raw.tcp.destroy();
    }
    this.raw.socket.destroy();
  }

  /** FIN (after a WebSocket close frame if `code` is given), then destroys after `graceMs`. */
  close(code?: number, graceMs = 2000): void {
    if (this.closed) return;
    if (code !== undefined && isWebSocket(this.transport)) {
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code);
      this.sendFrame({ opcode: Opcode.close, payload });
    }
    this.socket.end();
    setTimeout(() => this.destroy(), graceMs).unref();
  }

  destroy(): void {
    this.raw.socket.destroy();
    this.raw.tcp.destroy();
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    if (!isWebSocket(this.transport)) {
      try {
        this.framer.push(chunk, (bytes) => this.emit(Buffer.from(bytes).toString('utf8')));
      } catch {
        this.destroy(); // over 64 MiB without a NUL: the broker is not speaking JMQT
      }
      return;
    }
    for (const received of this.parser.push(chunk)) {
      switch (received.opcode) {
        case Opcode.ping:
          this.sendFrame({ opcode: Opcode.pong, payload: received.payload });
          break;
        case Opcode.close:
          this.closeCode = received.payload.length >= 2 ? received.payload.readUInt16BE(0) : 1005;
          break;
        case Opcode.pong:
          break;
        default:
          this.fragments.push(received.payload);
          if (received.fin) {
            const message = Buffer.concat(this.fragments);
            this.fragments = [];
            this.emit(message.toString('utf8'));
          }
      }
    }
  }

  private emit(text: string): void {
    for (const listener of [...this.listeners]) listener(text);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.raw.tcp.destroy();
    this.resolveEnd({ closeCode: this.closeCode });
  }
}

/** Writes the upgrade request, reads the answer's head; resolves with the bytes after it, rejects unless 101. */
function upgrade(raw: RawSocket, request: string, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const socket = raw.socket;
    const timer = setTimeout(() => done(new Error(`no upgrade answer within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = received.subarray(0, received.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.1 101 /.test(status)) return done(new UpgradeRefused(status));
      // Stop reading until the Link takes over (it resumes), so no frame is lost in between.
      socket.pause();
      done(null, received.subarray(end + 4));
    };
    const onClose = () => done(new Error('closed during the upgrade'));
    const done = (error: Error | null, head?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error) {
        socket.destroy();
        raw.tcp.destroy();
        reject(error);
      } else {
        resolve(head!);
      }
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(request);
  });
}

export class UpgradeRefused extends Error {
  constructor(readonly statusLine: string) {
    super(`upgrade refused: ${statusLine}`);
  }
}
