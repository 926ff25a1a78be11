/**
 * Handler of `unsub` (protocol 6.6): `$` and `#` channels are refused with 11.
 * Decision: unsubscribing a channel one is not subscribed to answers 0.
 */
import type { UnsubPacket } from '../../shared/packets';
import { channelKind } from '../../shared/channel';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';
import { quote } from '../log-text';
import { asStatus, callHook } from './hook-call';

export async function handleUnsub(broker: Broker, session: Session, { cn }: UnsubPacket): Promise<void> {
  if (channelKind(cn) !== 'normal') {
    session.send({ type: 'unsubAck', st: Status.INVALID_CHANNEL, cn });
    return;
  }
  if (cn.length > broker.config.MAX_CHANNEL_LENGTH) {
    broker.limitHit('MAX_CHANNEL_LENGTH', `unsub from a ${cn.length}-character channel by ${session.describe()}`);
    session.send({ type: 'unsubAck', st: Status.INVALID_CHANNEL, cn });
    return;
  }
  const status = asStatus(await callHook(broker, 'unsubscription', () => broker.app.validateUnsubscription(cn, session), Status.SERVER_ERROR));
  // Protocol 11.9: an answer that comes after the session ended changes nothing.
  if (!session.inSession) {
    broker.counters.lateHookAnswers++;
    return;
  }
  if (status !== Status.OK) {
    session.send({ type: 'unsubAck', st: status, cn });
    return;
  }
  try {
    const existed = await broker.unsubscribe(session.clientId, cn);
    session.send({ type: 'unsubAck', st: existed ? Status.OK : Status.FAILED, cn });
  } catch (error) {
    broker.log.error(`unsubscribing ${session.describe()} from ${quote(cn)}: ${(error as Error).message}`);
    session.send({ type: 'unsubAck', st: Status.SERVER_ERROR, cn });
  }
}
