/** WebSocket transport over the platform's global WebSocket (browsers, Deno, Node 22+). */
import { webSocketCloseReason } from '../keys';
import { TransportBase, stripTrailingNul, type ConnectionSink } from './transport';

export interface BrowserWebSocketTransportOptions {
  /** WebSocket sub-protocols; default none. */
  protocols?: string | string[];
  /** WebSocket constructor to use; default `globalThis.WebSocket`. */
  WebSocket?: typeof WebSocket;
}

/**
 * Protocol 1.3: one packet per text message, no NUL. The reference browser client
 * opens `ws://host:port/`, so pass a URL with path `/` (default port 8011,
 * 8013 for `wss:`).
 */
export class BrowserWebSocketTransport extends TransportBase {
  private socket: WebSocket | null = null;
  private readonly decoder = new TextDecoder();

  constructor(
    readonly url: string,
    private readonly options: BrowserWebSocketTransportOptions = {},
  ) {
    super();
  }

  protected start(sink: ConnectionSink): void {
    const Ctor = this.options.WebSocket ?? globalThis.WebSocket;
    if (!Ctor) {
      sink.close('no WebSocket implementation in this environment');
      return;
    }
    let socket: WebSocket;
    try {
      socket = new Ctor(this.url, this.options.protocols);
    } catch (error) {
      sink.close(error instanceof Error ? error.message : String(error));
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => sink.open();
    socket.onmessage = (event: MessageEvent) => {
      const data: unknown = event.data;
      const text = typeof data === 'string' ? data : this.decoder.decode(data as ArrayBuffer);
      sink.message(stripTrailingNul(text));
    };
    // Browsers hide the cause of an error; the close event that follows carries the code.
    socket.onclose = (event: CloseEvent) => {
      // An old socket closing late must not drop the reference to a newer one.
      if (this.socket === socket) this.socket = null;
      sink.close(webSocketCloseReason(event.code, event.reason));
    };
  }

  protected stop(): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.close();
  }

  protected write(text: string): Promise<void> {
    if (!this.socket) return Promise.reject(new Error('websocket is not open'));
    // The browser API offers no write callback: the packet is queued, which is all we can know.
    this.socket.send(text);
    return Promise.resolve();
  }
}
