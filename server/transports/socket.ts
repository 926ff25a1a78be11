/**
 * Raw TCP and TLS sockets (protocol 1.2): NUL-framed UTF-8 JSON. TLS differs
 * only by the TLS socket the listener wrapped around the admitted one.
 */
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import type { TransportName } from '../../shared/keys';
import { FrameTooLargeError, NulFramer } from '../../shared/framer';
import type { TransportHost } from './host';
import type { OutFrame, Wire } from '../outbound';

/** Corked bytes that are handed to the kernel at once rather than at the end of the tick. */
const FLUSH_BYTES = 64 * 1024;
/** How long a closed socket may take to finish writing before it is destroyed, ms. */
const CLOSE_GRACE_MS = 2000;

class SocketWire implements Wire {
  private corked = false;
  /** Bytes written since the socket was last uncorked. */
  private corkedBytes = 0;

  constructor(private readonly socket: Socket) {}

  /** Writes of one tick leave in one system call (cork until the tick ends). */
  write(frame: OutFrame): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    const bytes = frame.bytes;
    this.socket.write(bytes);
    // A long burst in one turn goes to the kernel in batches: the outbound check then
    // sees what the peer has not taken, not what this turn has yet to hand over.
    this.corkedBytes += bytes.length;
    if (this.corkedBytes >= FLUSH_BYTES) {
      this.corkedBytes = 0;
      this.socket.uncork();
      this.socket.cork();
    }
  }

  flush(): void {
    this.corked = false;
    this.corkedBytes = 0;
    this.socket.uncork();
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  onceDrained(callback: () => void): void {
    this.socket.once('drain', callback);
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

/** `socket` was admitted by the listener (and, for SSL_SOCKET, is its TLS socket); `address` is the client's. */
export function acceptSocket(broker: TransportHost, socket: Socket, protocol: TransportName, address: string): void {
  socket.setNoDelay(true);
  const wire = new SocketWire(socket);
  const session = broker.accept(wire, protocol, address);
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
      if (error instanceof FrameTooLargeError) {
        broker.counters.oversizedFrames++;
        broker.log.warn(`closing ${session.describe()}: frame over MAX_PACKET_BYTES (${error.limit} bytes)`);
        session.close('frame too large');
      } else {
        // A bug, never the client's doing: it costs this connection, not the process.
        broker.log.error(`closing ${session.describe()}: ${(error as Error)?.stack ?? error}`);
        session.close('internal error');
      }
      socket.destroy();
    }
  });
  socket.on('error', (error) => broker.log.debug(`socket error for ${session.describe()}: ${error.message}`));
  socket.on('close', () => session.closed());
  // The listener leaves a socket paused after reading a PROXY header.
  socket.resume();
}
