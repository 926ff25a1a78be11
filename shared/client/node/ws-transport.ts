/** Node-only: JMQT over WebSocket with the `ws` package (protocol 1.3: one packet per text message). */
import { webSocketCloseReason } from '../../keys';
import WebSocket, { type ClientOptions } from 'ws';
import { TransportBase, stripTrailingNul, type ConnectionSink } from '../transport';

export class NodeWsTransport extends TransportBase {
  private socket: WebSocket | null = null;

  /**
   * @param url e.g. `ws://localhost:8011/` or `wss://host:8013/` (the reference browser client uses path `/`).
   * @param options passed to `ws` as is (TLS options, headers, …); default none.
   */
  constructor(
    readonly url: string,
    private readonly options: ClientOptions = {},
  ) {
    super();
  }

  protected start(sink: ConnectionSink): void {
    let failure = '';
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url, this.options);
    } catch (error) {
      sink.close((error as Error).message);
      return;
    }
    this.socket = socket;
    socket.on('open', () => sink.open());
    socket.on('message', (data) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      sink.message(stripTrailingNul(bytes.toString('utf8')));
    });
    socket.on('error', (error) => {
      failure ||= error.message;
    });
    socket.on('close', (code, reason) => {
      // An old socket closing late must not drop the reference to a newer one.
      if (this.socket === socket) this.socket = null;
      sink.close(failure || webSocketCloseReason(code, reason.toString()));
    });
  }

  protected stop(): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    // terminate() would skip the closing handshake; close() on a CONNECTING socket is fine in ws 8.
    socket.close();
  }

  protected write(text: string): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState === socket.CLOSED) return Promise.reject(new Error('websocket is not open'));
    if (socket.readyState === socket.CLOSING) {
      // The server's close frame is in: its close event carries the reason (a drain's 4002,
      // say), so the write fails only after that reason is reported, not instead of it.
      return new Promise((_resolve, reject) => socket.once('close', () => reject(new Error('websocket closed'))));
    }
    return new Promise((resolve, reject) => socket.send(text, (error) => (error ? reject(error) : resolve())));
  }
}
