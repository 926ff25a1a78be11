/** Node-only: JMQT over plain TCP (`net`) or TLS (`tls`), NUL framed (protocol 1.2). */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { NulFramer } from '../../framer';
import { DEFAULT_MAX_PACKET_BYTES, DefaultPorts } from '../../keys';
import { TransportBase, type ConnectionSink } from '../transport';

export interface NodeSocketTransportOptions {
  /** Default `localhost`. */
  host?: string;
  /** Default 8010, or 8012 with `tls` (protocol 1.1). */
  port?: number;
  /** `true` or TLS options to wrap the socket in TLS; default `false` (plain TCP). */
  tls?: boolean | tls.ConnectionOptions;
  /** Largest inbound packet in bytes before the connection is dropped; default 1 MiB. */
  maxPacketBytes?: number;
}

const NUL = '\0';

export class NodeSocketTransport extends TransportBase {
  private socket: net.Socket | null = null;

  constructor(private readonly options: NodeSocketTransportOptions = {}) {
    super();
  }

  protected start(sink: ConnectionSink): void {
    const { host = 'localhost', tls: tlsOption = false } = this.options;
    const secure = tlsOption !== false;
    const port = this.options.port ?? (secure ? DefaultPorts.sslSocket : DefaultPorts.socket);
    const framer = new NulFramer(this.options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES);
    const decoder = new TextDecoder();
    let failure = '';

    const socket = secure
      ? tls.connect({
          // SNI takes host names only (RFC 6066), never an IP address.
          ...(net.isIP(host) ? {} : { servername: host }),
          ...(typeof tlsOption === 'object' ? tlsOption : {}),
          host,
          port,
        })
      : net.connect({ host, port });
    this.socket = socket;
    // Packets are small and latency-bound (acks, heartbeats): do not let Nagle hold them back.
    socket.setNoDelay(true);
    socket.once(secure ? 'secureConnect' : 'connect', () => sink.open());
    socket.on('data', (chunk: Buffer) => {
      try {
        // Protocol 1.2: a read may hold part of a packet or several; the framer keeps the tail.
        framer.push(chunk, (frame) => sink.message(decoder.decode(frame)));
      } catch (error) {
        failure = (error as Error).message;
        socket.destroy();
      }
    });
    socket.on('error', (error) => {
      failure ||= error.message;
    });
    socket.on('close', () => {
      // An old socket closing late must not drop the reference to a newer one.
      if (this.socket === socket) this.socket = null;
      sink.close(failure || 'connection closed by server');
    });
  }

  protected stop(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  protected write(text: string): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new Error('socket is not open'));
    // Protocol 1.2: the sender terminates every packet with exactly one NUL.
    return new Promise((resolve, reject) => {
      socket.write(text + NUL, 'utf8', (error) => (error ? reject(error) : resolve()));
    });
  }
}
