/**
 * Incremental NUL framer for the TCP transports (protocol 1.2):
 * a read may hold part of a packet or several; the unfinished tail is kept
 * until its NUL arrives. Works on Uint8Array so that browsers and Node share it.
 */

export class FrameTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`frame exceeds ${limit} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

export class NulFramer {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  /** @param maxFrameBytes largest frame accepted, NUL excluded. */
  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held for a frame whose NUL has not arrived yet. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * Feeds one read; calls `onFrame` for every complete frame, in order.
   * Throws FrameTooLargeError as soon as a frame is known to exceed the limit,
   * so a peer cannot make us buffer without bound.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    let start = 0;
    let nul = chunk.indexOf(0, start);
    while (nul !== -1) {
      const piece = chunk.subarray(start, nul);
      if (this.pendingBytes === 0) {
        if (piece.length > this.maxFrameBytes) throw new FrameTooLargeError(this.maxFrameBytes);
        onFrame(piece);
      } else {
        onFrame(this.takePending(piece));
      }
      start = nul + 1;
      nul = chunk.indexOf(0, start);
    }
    if (start < chunk.length) {
      const tail = chunk.subarray(start);
      if (this.pendingBytes + tail.length > this.maxFrameBytes) throw new FrameTooLargeError(this.maxFrameBytes);
      // Copy: the caller may reuse its read buffer.
      this.pending.push(tail.slice());
      this.pendingBytes += tail.length;
    }
  }

  private takePending(last: Uint8Array): Uint8Array {
    const size = this.pendingBytes + last.length;
    if (size > this.maxFrameBytes) throw new FrameTooLargeError(this.maxFrameBytes);
    const frame = new Uint8Array(size);
    let offset = 0;
    for (const part of this.pending) {
      frame.set(part, offset);
      offset += part.length;
    }
    frame.set(last, offset);
    this.pending = [];
    this.pendingBytes = 0;
    return frame;
  }
}
