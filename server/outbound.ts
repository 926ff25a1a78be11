/**
 * The single write path (ARCHITECTURE rule 3). A packet is encoded once into
 * an OutFrame; the same bytes go to every subscriber of a fan-out, whatever
 * its transport: TCP writes them NUL-terminated, WebSocket without the NUL.
 */
import type { ServerPacket } from '../shared/packets';
import { encode } from '../shared/codec';

export class OutFrame {
  private encoded: Buffer | null = null;

  constructor(readonly text: string) {}

  static of(packet: ServerPacket): OutFrame {
    return new OutFrame(encode(packet));
  }

  /** UTF-8 bytes followed by the NUL terminator (protocol 1.2). */
  get bytes(): Buffer {
    if (this.encoded === null) {
      const length = Buffer.byteLength(this.text);
      this.encoded = Buffer.allocUnsafe(length + 1);
      this.encoded.write(this.text, 0, length, 'utf8');
      this.encoded[length] = 0;
    }
    return this.encoded;
  }

  /** The same bytes without the NUL, for one WebSocket text message. */
  get message(): Buffer {
    return this.bytes.subarray(0, this.bytes.length - 1);
  }
}

/** What a transport gives a session: bytes out, flow control, and an end. */
export interface Wire {
  write(frame: OutFrame): void;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /** Calls back once, when what is buffered has been handed to the kernel (not if the connection closes first). */
  onceDrained(callback: () => void): void;
  /** Stops reading from the peer (inbound backpressure). */
  pause(): void;
  resume(): void;
  /**
   * Ends the connection after what is queued is written; `close` events follow.
   * WebSocket carries `code` and `reason` in its close frame; TCP has no such thing.
   */
  close(code?: number, reason?: string): void;
}
