/** Handler of `conn` (protocol 5.2): validate → take over → `#clientId` → connAck → queued QoS 1 → retained. */
import type { ConnPacket } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';
import { asStatus, callHook } from './hook-call';
import { quote } from '../log-text';

export async function handleConn(broker: Broker, session: Session, packet: ConnPacket): Promise<void> {
  if (session.state === 'session') {
    session.send({ type: 'connAck', st: Status.NOT_ALLOWED });
    return;
  }
  if (packet.cl.length > broker.config.MAX_CLIENT_ID_LENGTH) {
    broker.limitHit('MAX_CLIENT_ID_LENGTH', `conn with a ${packet.cl.length}-character client id from ${session.remoteHost}`);
    session.send({ type: 'connAck', st: Status.INVALID_PACKET });
    return;
  }
  if (packet.at.length > broker.config.MAX_AUTH_BYTES) {
    broker.limitHit('MAX_AUTH_BYTES', `conn with a ${packet.at.length}-character token from ${session.remoteHost}`);
    session.send({ type: 'connAck', st: Status.INVALID_PACKET });
    return;
  }
  const status = asStatus(await callHook(broker, 'connection', () => broker.app.validateConnection(packet.cl, packet.at, session), Status.SERVER_ERROR));
  // Protocol 11.9: an answer that comes after the connection closed changes nothing.
  if (session.state === 'closed') {
    broker.counters.lateHookAnswers++;
    return;
  }
  if (status !== Status.OK) {
    broker.log.info(`conn refused (${status}) for client ${quote(packet.cl)} from ${session.remoteHost} over ${session.protocol}`);
    session.send({ type: 'connAck', st: status });
    return;
  }
  try {
    await broker.openSession(session, packet.cl);
  } catch (error) {
    broker.log.error(`opening the session of ${session.describe()}: ${(error as Error).message}`);
    session.send({ type: 'connAck', st: Status.SERVER_ERROR });
    session.close('session could not start');
    return;
  }
  if (!session.inSession) return;
  session.send({ type: 'connAck', st: Status.OK, ts: broker.config.TIMEOUT_SECONDS });
  try {
    await broker.replay(session);
  } catch (error) {
    broker.log.error(`replaying stored messages to ${session.describe()}: ${(error as Error).message}`);
  }
}
