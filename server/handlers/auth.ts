import type { AuthPacket } from '../../shared/packets';
import { Status, statusName } from '../../shared/status';
import type { Broker } from '../broker';
import type { AuthResult } from '../hooks';
import type { Session } from '../session';
import { callHook } from './hook-call';

/** JMQT 5: auth may come any number of times before conn; the application decides. */
export async function handleAuth(broker: Broker, session: Session, packet: AuthPacket): Promise<void> {
  if (session.state === 'session') {
    session.send({ type: 'authAck', st: Status.NOT_ALLOWED, mg: 'already in a session' });
    return;
  }
  const failed: AuthResult = { status: Status.SERVER_ERROR, message: 'authentication failed on the server' };
  const result = await callHook(broker, 'authentication', () => broker.app.authenticate(packet.dt, session), failed);
  if (result?.status === Status.OK) {
    if (typeof result.clientId === 'string' && result.clientId !== '' && typeof result.token === 'string') {
      session.send({ type: 'authAck', st: Status.OK, at: result.token, cl: result.clientId });
      return;
    }
    broker.log.error('authentication hook answered OK without a client id and a token');
    session.send({ type: 'authAck', st: Status.SERVER_ERROR, mg: 'authentication failed on the server' });
    return;
  }
  const status = typeof result?.status === 'number' ? result.status : Status.SERVER_ERROR;
  // JMQT 3: a refused authAck carries a non-empty reason.
  session.send({ type: 'authAck', st: status, mg: result?.message || statusName(status) });
  broker.log.info(`auth refused (${status}) for ${session.describe()}`);
}
