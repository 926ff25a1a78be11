import type { Session } from '../session';

/** JMQT 5: disconn ends the session; the disconnection notifier runs, then the close notifier. */
export function handleDisconn(session: Session): void {
  session.disconnected = true;
  session.close('client sent disconn');
}
