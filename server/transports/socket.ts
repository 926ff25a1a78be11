/**
 * Raw TCP and TLS sockets (protocol page, section 1): NUL-framed UTF-8 JSON.
 * TLS differs only by the server that accepted the socket.
 */
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import type { TransportName } from '../../shared/keys';
import { FrameTooLargeError, NulFramer } from '../../shared/framer';
import type { Broker } from '../broker';
import type { OutFrame, Wire } from '../outbound';

/** How long a closed socket may take to finish writing before it is destroyed, ms. */
const CLOSE_GRACE_MS = 2000;

class SocketWire implements Wire {
  private corked = false;

  constructor(private readonly socket: Socket) {}

  /** Writes of one tick leave in one system call (cork until the tick ends). */
  write(frame: OutFrame): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    this.socket.write(frame.bytes);
  }

  flush(): void {
    this.corked = false;
    this.socket.uncork();
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    if (this.socket.destroyed) return;
    if (this.corked) this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

function uncork(wire: SocketWire): void {
  wire.flush();
}

export function acceptSocket(broker: Broker, socket: Socket, protocol: TransportName): void {
  if (!broker.admit(socket.remoteAddress ?? 'unknown')) {
    socket.destroy();
    return;
  }
  socket.setNoDelay(true);
  const wire = new SocketWire(socket);
  const session = broker.accept(wire, protocol, socket.remoteAddress ?? 'unknown');
  const framer = new NulFramer(broker.config.MAX_PACKET_BYTES);
  const onFrame = (frame: Uint8Array) => {
    if (!isUtf8(frame)) {
      broker.counters.invalidUtf8++;
      broker.counters.droppedPackets++;
      broker.log.debug(`dropped a frame that is not UTF-8 from ${session.describe()}`);
      return;
    }
    session.receive(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'));
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      framer.push(chunk, onFrame);
    } catch (error) {
      if (!(error instanceof FrameTooLargeError)) throw error;
      broker.counters.oversizedFrames++;
      broker.log.warn(`closing ${session.describe()}: frame over MAX_PACKET_BYTES (${error.limit} bytes)`);
      session.close('frame too large');
      socket.destroy();
    }
  });
  socket.on('error', (error) => broker.log.debug(`socket error for ${session.describe()}: ${error.message}`));
  socket.on('close', () => session.closed());
}
