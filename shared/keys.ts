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

/** Close reason of a WebSocket close, naming a takeover so the client can stop reconnecting. */
export function webSocketCloseReason(code: number, reason: string): string {
  const detail = `code ${code}${reason ? `, ${reason}` : ''}`;
  return code === TAKEN_OVER_CLOSE_CODE ? `${TAKEN_OVER_REASON} (${detail})` : `websocket closed (${detail})`;
}
