import type { Session } from '../session';

/** JMQT 5: hbAck only inside a session (the dispatcher drops hb before one). */
export function handleHb(session: Session): void {
  session.send({ type: 'hbAck' });
}
