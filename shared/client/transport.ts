/**
 * The pluggable link under JmqtClient: anything that can carry one JMQT
 * packet's text each way (protocol 1.2, 1.3). Framing (NUL for sockets, one message
 * per packet for WebSocket) is the transport's business, never the client's.
 */
import { Emitter, type Listener } from './emitter';

export interface TransportEvents {
  /** The connection is up; send() works from now on. */
  open: undefined;
  /** One whole inbound packet's text, without any NUL. */
  message: string;
  /** The connection is gone (or never came up); emitted once per connect(). */
  close: string;
}

export interface Transport {
  /**
   * Starts a new connection. Emits `open`, then `message`s, then exactly
   * one `close`; or only `close` when the connection cannot be made.
   * Calling it while a connection is live first closes that one.
   */
  connect(): void;
  /** Writes one packet; resolves once it is handed to the network, rejects when not open. */
  send(text: string): Promise<void>;
  /**
   * Closes the current connection. `close` is emitted synchronously with
   * `reason`, and no later event of that connection reaches listeners.
   */
  close(reason?: string): void;
  on<K extends keyof TransportEvents>(event: K, listener: Listener<TransportEvents[K]>): () => void;
}

/** What a concrete transport reports for the one connection it was asked to start. */
export interface ConnectionSink {
  open(): void;
  message(text: string): void;
  close(reason: string): void;
}

/**
 * Holds the event rules of the Transport contract so that each concrete
 * transport only opens, writes and shuts its own socket. Events of a
 * connection that was replaced or closed are dropped here: a late `close`
 * of an old socket must not look like the end of the current one, which is
 * what makes reconnecting on the same transport object safe.
 */
export abstract class TransportBase extends Emitter<TransportEvents> implements Transport {
  private live: object | null = null;
  private isOpen = false;

  get connected(): boolean {
    return this.isOpen;
  }

  connect(): void {
    this.close('replaced by a new connection');
    const token = {};
    this.live = token;
    this.isOpen = false;
    const current = () => this.live === token;
    this.start({
      open: () => {
        if (!current()) return;
        this.isOpen = true;
        this.emit('open', undefined);
      },
      message: (text) => {
        if (current()) this.emit('message', text);
      },
      close: (reason) => {
        if (!current()) return;
        this.live = null;
        this.isOpen = false;
        this.emit('close', reason);
      },
    });
  }

  close(reason = 'closed by client'): void {
    if (this.live === null) return;
    this.live = null;
    this.isOpen = false;
    this.stop();
    this.emit('close', reason);
  }

  send(text: string): Promise<void> {
    if (!this.isOpen) return Promise.reject(new Error('transport is not open'));
    return this.write(text);
  }

  /** Opens the socket and reports on `sink` (events after stop() are dropped anyway). */
  protected abstract start(sink: ConnectionSink): void;
  /** Shuts the current socket without reporting. */
  protected abstract stop(): void;
  /** Writes one packet on the open socket. */
  protected abstract write(text: string): Promise<void>;
}

/** Protocol 1.3: a trailing NUL inside a WebSocket message is tolerated and stripped. */
export function stripTrailingNul(text: string): string {
  return text.endsWith('\0') ? text.slice(0, -1) : text;
}
