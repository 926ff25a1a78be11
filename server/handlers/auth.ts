/** Handler of `auth` (protocol 5.1): auth may come any number of times before conn; the application decides. */
import type { AuthPacket } from '../../shared/packets';
import { Status, statusName } from '../../shared/status';
import type { Broker } from '../broker';
import type { AuthResult } from '../hooks';
import type { Session } from '../session';
import { callHook } from './hook-call';

export async function handleAuth(broker: Broker, session: Session, packet: AuthPacket, text: string): Promise<void> {
  if (session.state === 'session') {
    session.send({ type: 'authAck', st: Status.NOT_ALLOWED, mg: 'already in a session' });
    return;
  }
  // Protocol 11.1: the packet's size bounds its data, so the text is measured, not the data re-serialised.
  if (text.length > broker.config.MAX_AUTH_BYTES) {
    broker.limitHit('MAX_AUTH_BYTES', `auth of ${text.length} characters from ${session.remoteHost}`);
    session.send({ type: 'authAck', st: Status.INVALID_PACKET, mg: `auth data over MAX_AUTH_BYTES (${broker.config.MAX_AUTH_BYTES} bytes)` });
    return;
  }
  const failed: AuthResult = { status: Status.SERVER_ERROR, message: 'authentication failed on the server' };
  const result = await callHook(broker, 'authentication', () => broker.app.authenticate(packet.dt, session), failed);
  // Protocol 11.9: an answer that comes after the connection closed changes nothing.
  if (session.state === 'closed') {
    broker.counters.lateHookAnswers++;
    return;
  }
  if (result?.status === Status.OK) {
    if (typeof result.clientId !== 'string' || result.clientId === '' || typeof result.token !== 'string') {
      broker.log.error('authentication hook answered OK without a client id and a token');
      session.send({ type: 'authAck', st: Status.SERVER_ERROR, mg: 'authentication failed on the server' });
      return;
    }
    if (result.clientId.length > broker.config.MAX_CLIENT_ID_LENGTH) {
      broker.limitHit('MAX_CLIENT_ID_LENGTH', `auth for a ${result.clientId.length}-character client id from ${session.remoteHost}`);
      session.send({ type: 'authAck', st: Status.INVALID_PACKET, mg: `client id over MAX_CLIENT_ID_LENGTH (${broker.config.MAX_CLIENT_ID_LENGTH} characters)` });
      return;
    }
    session.send({ type: 'authAck', st: Status.OK, at: result.token, cl: result.clientId });
    return;
  }
  const status = typeof result?.status === 'number' ? result.status : Status.SERVER_ERROR;
  // Protocol 3.2: a refused authAck carries a non-empty reason.
  session.send({ type: 'authAck', st: status, mg: result?.message || statusName(status) });
  broker.log.info(`auth refused (${status}) for ${session.describe()}`);
}
