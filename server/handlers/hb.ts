/** Handler of `hb` (protocol 5.8): answered with hbAck. */
import type { Connection } from '../connection';

/** Protocol 5.8: hbAck only inside a session (the dispatcher drops hb before one). */
export function handleHb(connection: Connection): void {
  connection.send({ type: 'hbAck' });
}
