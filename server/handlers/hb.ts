import type { Connection } from '../connection';

/** JMQT 5: hbAck only inside a session (the dispatcher drops hb before one). */
export function handleHb(connection: Connection): void {
  connection.send({ type: 'hbAck' });
}
