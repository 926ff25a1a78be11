/** Handler of `disconn` (protocol 5.9): the client ends its session. */
import type { Connection } from '../connection';

/** Protocol 5.9: disconn ends the session; the disconnection notifier runs, then the close notifier. */
export function handleDisconn(connection: Connection): void {
  connection.disconnected = true;
  connection.close('client sent disconn');
}
