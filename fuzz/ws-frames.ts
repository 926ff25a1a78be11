/**
 * RFC 6455 by hand: the opening handshake request, client frames (masked,
 * with every header bit under the caller's control so that invalid frames
 * can be written too), and a parser of the server's frames.
 */
import { createHash } from 'node:crypto';

export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

export interface FrameOptions {
  opcode: number;
  payload?: Buffer;
  /** Last fragment of its message (default true). */
  fin?: boolean;
  /** RSV1-3 as a 3-bit number; anything but 0 is invalid without an extension. */
  rsv?: number;
  /** 4-byte mask key; null writes an unmasked frame, which a server must refuse. */
  mask?: Buffer | null;
  /** The length written in the header, when it should lie about the payload. */
  declaredLength?: number | bigint;
  /** Force the 16- or 64-bit length form even for short payloads (non-minimal, yet valid). */
  lengthForm?: 7 | 16 | 64;
}

/** One client frame. Client frames are masked (RFC 6455 5.3) unless `mask` is null. */
export function frame(options: FrameOptions): Buffer {
  const payload = options.payload ?? Buffer.alloc(0);
  const fin = options.fin ?? true;
  const length = options.declaredLength ?? payload.length;
  const big = BigInt(length);
  const form = options.lengthForm ?? (big < 126n ? 7 : big < 65536n ? 16 : 64);
  const mask = options.mask === undefined ? Buffer.from([0x12, 0x34, 0x56, 0x78]) : options.mask;
  const head: number[] = [(fin ? 0x80 : 0) | ((options.rsv ?? 0) & 7) << 4 | (options.opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  let extended: Buffer;
  if (form === 7) {
    head.push(maskBit | Number(big & 0x7fn));
    extended = Buffer.alloc(0);
  } else if (form === 16) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(Number(big & 0xffffn));
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(big & 0xffff_ffff_ffff_ffffn);
  }
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), extended, mask ?? Buffer.alloc(0), body]);
}

/** A close frame's payload: the 2-byte code and a reason. */
export function closePayload(code: number, reason: string | Buffer = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code & 0xffff);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

export interface HandshakeOptions {
  host: string;
  path?: string;
  key?: string;
  origin?: string;
  version?: string;
  /** Extra header lines, `Name: value`, written as given. */
  extraHeaders?: string[];
  /** Leave out the final empty line (slowloris). */
  unfinished?: boolean;
}

export function handshakeRequest(options: HandshakeOptions): string {
  const lines = [
    `GET ${options.path ?? '/'} HTTP/1.1`,
    `Host: ${options.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${options.key ?? 'dGhlIHNhbXBsZSBub25jZQ=='}`,
    `Sec-WebSocket-Version: ${options.version ?? '13'}`,
  ];
  if (options.origin !== undefined) lines.push(`Origin: ${options.origin}`);
  lines.push(...(options.extraHeaders ?? []));
  return lines.join('\r\n') + (options.unfinished ? '\r\n' : '\r\n\r\n');
}

/** The Sec-WebSocket-Accept a server must answer for `key`. */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Incremental parser of server frames (never masked; RFC 6455 5.1). */
export class FrameParser {
  private buffer: Buffer = Buffer.alloc(0);

  /** Feeds bytes; answers the complete frames. */
  push(chunk: Buffer): ServerFrame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: ServerFrame[] = [];
    for (;;) {
      if (this.buffer.length < 2) break;
      const first = this.buffer[0]!;
      const second = this.buffer[1]!;
      let length = second & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) break;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) break;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (second & 0x80) !== 0;
      const maskKey = masked ? this.buffer.subarray(offset, offset + 4) : null;
      if (masked) offset += 4;
      if (this.buffer.length < offset + length) break;
      const payload = Buffer.from(this.buffer.subarray(offset, offset + length));
      if (maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= maskKey[i & 3]!;
      frames.push({ fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload });
      this.buffer = this.buffer.subarray(offset + length);
    }
    return frames;
  }
}
