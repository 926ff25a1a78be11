/**
 * Short keys of JMQT 1.0 packets (protocol page, section 3) and the defaults
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

/** Transport names as the application hooks receive them (section 6). */
export type TransportName = 'SOCKET' | 'SSL_SOCKET' | 'WEB_SOCKET' | 'SSL_WEB_SOCKET';
