/** JMQT 1.0 status codes (protocol 4.1). */
export const Status = {
  UNKNOWN: -1,
  FAILED: 0,
  OK: 1,
  SERVER_ERROR: 5,
  INVALID_TOKEN: 6,
  NOT_ALLOWED: 7,
  CLIENT_OFFLINE: 8,
  NETWORK_ERROR: 9,
  INVALID_PACKET: 10,
  INVALID_CHANNEL: 11,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

const names = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code, name]));

/** Human name of a status code, e.g. `statusName(8) === 'CLIENT_OFFLINE'`. */
export function statusName(code: number): string {
  return names.get(code) ?? `STATUS_${code}`;
}
