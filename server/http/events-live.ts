/**
 * Live events for the dashboard: a WebSocket at /api/events/live on the
 * WebSocket port(s), guarded like the API. Without ADMIN_TOKEN: loopback
 * callers only, for a loopback Host, and not from a page of another origin.
 * With it: the token in `Authorization: Bearer`, in `?token=`, or (browsers
 * cannot set headers on a WebSocket) as the first message `{"token": "…"}`
 * within TOKEN_WAIT_MS. `?clientId=` keeps one client's events. Each event
 * is one message `{"event": {…}}`, as GET /api/events shows it; in a cluster
 * the other nodes forward theirs while a dashboard watches. A watcher that
 * does not read loses events (counted in the next message's `dropped`)
 * rather than grow the broker's memory.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Broker } from '../broker';
import { eventView } from '../events/event-log';
import { peerAddress } from '../transports/listener';
import { adminRefusal, tokenMatches } from './admin-auth';

export const LIVE_EVENTS_PATH = '/api/events/live';
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

const MAX_WATCHERS = 32;
/** Bytes waiting for one watcher past which its events are dropped. */
const MAX_BUFFERED = 1024 * 1024;
const TOKEN_WAIT_MS = 5000;
/** Policy violation: the token was wrong or did not come. */
const REFUSED_CLOSE_CODE = 1008;

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' };

function refuse(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** The upgrade handler of LIVE_EVENTS_PATH, shared by every HTTP port of the broker. */
export function liveEvents(broker: Broker): UpgradeHandler {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false, clientTracking: false });
  const adminToken = broker.config.ADMIN_TOKEN;
  let watchers = 0;

  const watch = (ws: WebSocket, clientId: string | undefined, awaitToken: boolean) => {
    if (++watchers === 1) broker.peers.watchEvents(true);
    let stop: (() => void) | null = null;
    let dropped = 0;
    const start = () => {
      ws.send(JSON.stringify({ hello: { node: broker.router.nodeId, clientId: clientId ?? null } }));
      stop = broker.monitor.events.listen((event) => {
        if (clientId !== undefined && event.clientId !== clientId) return;
        if (ws.bufferedAmount > MAX_BUFFERED) {
          dropped++;
          return;
        }
        ws.send(JSON.stringify(dropped > 0 ? { event: eventView(event), dropped } : { event: eventView(event) }));
        dropped = 0;
      });
    };
    ws.on('error', (error) => broker.log.debug(`live events socket: ${error.message}`));
    ws.on('close', () => {
      stop?.();
      if (--watchers === 0) broker.peers.watchEvents(false);
    });
    if (!awaitToken) return start();
    const timer = setTimeout(() => ws.close(REFUSED_CLOSE_CODE, 'admin token required'), TOKEN_WAIT_MS);
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      let token: unknown;
      try {
        token = (JSON.parse(data.toString('utf8')) as { token?: unknown }).token;
      } catch {
        token = undefined;
      }
      if (typeof token === 'string' && tokenMatches(adminToken, token)) start();
      else ws.close(REFUSED_CLOSE_CODE, 'admin token required');
    });
  };

  return (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const token = url.searchParams.get('token') ?? undefined;
    const clientId = url.searchParams.get('clientId') || undefined;
    if (clientId !== undefined && clientId.length > broker.config.MAX_CLIENT_ID_LENGTH) return refuse(socket, 400);
    const { authorization, host, origin } = request.headers;
    const refusal = adminRefusal(adminToken, { remoteAddress: peerAddress(request.socket), host, authorization, token, origin, checkOrigin: true });
    // A token expected and none offered yet: it may come as the first message.
    const awaitToken = refusal?.status === 401 && token === undefined && authorization === undefined;
    if (refusal && !awaitToken) return refuse(socket, refusal.status);
    if (watchers >= MAX_WATCHERS) {
      broker.log.warn(`live events: ${MAX_WATCHERS} watchers already, one more from ${peerAddress(request.socket)} refused`);
      return refuse(socket, 503);
    }
    sockets.handleUpgrade(request, socket, head, (ws) => watch(ws, clientId, awaitToken));
  };
}
