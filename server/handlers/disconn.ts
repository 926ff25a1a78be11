import type { Connection } from '../connection';

/** JMQT 5: disconn ends the session; the disconnection notifier runs, then the close notifier. */
export function handleDisconn(connection: Connection): void {
  connection.disconnected = true;
  connection.close('client sent disconn');
}
