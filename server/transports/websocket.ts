/**
 * WebSocket and TLS WebSocket (protocol 1.3): one packet per text message; a
 * trailing NUL is tolerated and stripped. Upgrades are accepted on `/` (the
 * reference browser client) and `/ws` (the dashboard behind `ng serve`);
 * upgrades on paths another part serves go there; any other upgrade is
 * answered and destroyed.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TransportName } from '../../shared/keys';
import type { TransportHost } from './host';
import type { OutFrame, Wire } from '../outbound';
import { peerAddress } from './listener';
import { quote } from '../log-text';

const UPGRADE_PATHS = new Set(['/', '/ws']);
const CLOSE_GRACE_MS = 2000;
/** How long a refused upgrade may take to write its answer before it is destroyed, ms. */
const REFUSAL_GRACE_MS = 1000;
const TEXT = { binary: false } as const;

class WebSocketWire implements Wire {
  /** `raw` is the socket under `socket`: ws has no drain event, its socket does. */
  constructor(private readonly socket: WebSocket, private readonly raw: Duplex) {}

  write(frame: OutFrame): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame.message, TEXT);
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  onceDrained(callback: () => void): void {
    this.raw.once('drain', callback);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(code = 1000, reason = ''): void {
    if (this.socket.readyState === this.socket.CLOSED) return;
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}

/** Answers a refused upgrade and destroys its socket: nothing is left half-closed. */
function refuseUpgrade(socket: Duplex, status: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}

/** Upgrades on other paths that some other part of the broker serves (the admin API's live events). */
export type OtherUpgrades = ReadonlyMap<string, (request: IncomingMessage, socket: Duplex, head: Buffer) => void>;

/** `accepting`: false while the node drains (server/drain.ts): JMQT upgrades are answered 503, so the client goes elsewhere. */
export function attachWebSocket(
  broker: TransportHost, server: HttpServer, protocol: TransportName, others: OtherUpgrades = new Map(), accepting: () => boolean = () => true,
): WebSocketServer {
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: broker.config.MAX_PACKET_BYTES,
    // Compression costs CPU per message and memory per connection; JMQT packets are small.
    perMessageDeflate: false,
    clientTracking: false,
  });
  const allowedOrigins = new Set(broker.config.WS_ALLOWED_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node's HTTP server hands the socket over without its error listener. The listener
    // stays for the connection's life, so it keeps the address, not the request.
    const address = peerAddress(request.socket);
    socket.on('error', (error) => broker.log.debug(`upgrade socket from ${address}: ${error.message}`));
    const path = (request.url ?? '/').split('?')[0]!;
    const other = others.get(path);
    if (other) {
      other(request, socket, head);
      return;
    }
    if (!UPGRADE_PATHS.has(path)) {
      refuseUpgrade(socket, '404 Not Found');
      return;
    }
    if (!accepting()) {
      refuseUpgrade(socket, '503 Service Unavailable');
      return;
    }
    const origin = request.headers.origin;
    if (allowedOrigins.size > 0 && !(origin && allowedOrigins.has(origin))) {
      broker.limitHit('WS_ALLOWED_ORIGINS', `WebSocket from origin ${origin === undefined ? '(none)' : quote(origin)} at ${address} refused`);
      refuseUpgrade(socket, '403 Forbidden');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => acceptWebSocket(broker, ws, request, socket, protocol));
  });
  return sockets;
}

function acceptWebSocket(broker: TransportHost, ws: WebSocket, request: IncomingMessage, raw: Duplex, protocol: TransportName): void {
  const session = broker.accept(new WebSocketWire(ws, raw), protocol, peerAddress(request.socket));
  ws.on('error', (error: Error & { code?: string }) => {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      broker.counters.oversizedFrames++;
      broker.log.warn(`closing ${session.describe()}: message over MAX_PACKET_BYTES (${broker.config.MAX_PACKET_BYTES} bytes)`);
      session.close('frame too large');
    } else {
      if (error.code === 'WS_ERR_INVALID_UTF8') broker.counters.invalidUtf8++;
      broker.log.debug(`websocket error for ${session.describe()}: ${error.message}`);
    }
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // ws checks UTF-8 of text messages itself; a binary message is accepted when it is UTF-8 JSON.
    if (isBinary && !isUtf8(data)) {
      broker.counters.invalidUtf8++;
      broker.counters.droppedPackets++;
      return;
    }
    const end = data.length > 0 && data[data.length - 1] === 0 ? data.length - 1 : data.length;
    session.receive(data.toString('utf8', 0, end));
  });
  ws.on('close', () => session.closed());
}
