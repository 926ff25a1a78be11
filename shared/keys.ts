/**
 * Short keys of JMQT 1.0 packets (protocol 3.1) and the defaults
 * every part of the project agrees on.
 */
export const Keys = {
  data: 'dt',
  status: 'st',
  timeoutSeconds: 'ts',
  authToken: 'at',
  channel: 'cn',
  persistent: 'pr',
  message: 'mg',
  packetId: 'id',
  clientId: 'cl',
  retained: 'rt',
  qos: 'q',
} as const;

export const DefaultPorts = {
  socket: 8010,
  webSocket: 8011,
  sslSocket: 8012,
  sslWebSocket: 8013,
} as const;

/** Idle timeout handed out in connAck, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 15;

/** Largest frame accepted on any transport, in bytes (1 MiB). */
export const DEFAULT_MAX_PACKET_BYTES = 1024 * 1024;

/** Deepest JSON nesting accepted inside a packet's `dt`. */
export const MAX_DATA_DEPTH = 64;

/** Transport names as the application hooks receive them (protocol 8.2). */
export type TransportName = 'SOCKET' | 'SSL_SOCKET' | 'WEB_SOCKET' | 'SSL_WEB_SOCKET';

/**
 * WebSocket close code of a session replaced by a newer one of the same
 * client id (4000-4999 are the application's). Clients that see it should not
 * reconnect, or two clients with one id take each other over for ever.
 */
export const TAKEN_OVER_CLOSE_CODE = 4000;
/** How SDK transports begin the close reason of such a close. */
export const TAKEN_OVER_REASON = 'taken over by a newer session';

/**
 * WebSocket close code of a session an operator ended (the admin API's kick,
 * `DELETE /api/clients/:clientId/session`). Clients should not reconnect
 * after it either: the operator meant the session to end.
 */
export const KICKED_CLOSE_CODE = 4001;
/** The reason of a kick, in the close frame and in the SDK's close reason. */
export const KICKED_REASON = 'kicked by operator';

/**
 * WebSocket close code of a session ended by a graceful drain of its node
 * (`POST /api/drain`, SIGUSR2: a rolling restart). Unlike 4000 and 4001 it
 * asks the client to reconnect at once, without backoff: through the load
 * balancer it lands on another node, which has the session's stored state.
 */
export const DRAINING_CLOSE_CODE = 4002;
/** The reason of a drain close, in the close frame and in the SDK's close reason. */
export const DRAINING_REASON = 'node draining, reconnect now';

/** Close reason of a WebSocket close, naming a takeover, a kick or a drain so the client knows whether and when to reconnect. */
export function webSocketCloseReason(code: number, reason: string): string {
  const detail = `code ${code}${reason ? `, ${reason}` : ''}`;
  if (code === TAKEN_OVER_CLOSE_CODE) return `${TAKEN_OVER_REASON} (${detail})`;
  if (code === KICKED_CLOSE_CODE) return `${KICKED_REASON} (${detail})`;
  if (code === DRAINING_CLOSE_CODE) return `${DRAINING_REASON} (${detail})`;
  return `websocket closed (${detail})`;
}

/** Whether a close reason (from webSocketCloseReason) says the client must not reconnect: taken over (4000) or kicked (4001). */
export function isFinalCloseReason(reason: string): boolean {
  return reason.startsWith(TAKEN_OVER_REASON) || reason.startsWith(KICKED_REASON);
}

/** Whether a close reason (from webSocketCloseReason) asks the client to reconnect at once, without backoff: its node is draining (4002). */
export function isReconnectNowReason(reason: string): boolean {
  return reason.startsWith(DRAINING_REASON);
}
