/** Handler of `sub` (protocol 6.6): `$` and `#` channels cannot be subscribed by clients (11); a retained message follows the subAck. */
import type { SubPacket } from '../../shared/packets';
import { channelKind } from '../../shared/channel';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';
import { pushRetained } from '../replay';
import { quote } from '../log-text';
import { asStatus, callHook } from './hook-call';

export async function handleSub(broker: Broker, session: Session, { cn, pr }: SubPacket): Promise<void> {
  if (channelKind(cn) !== 'normal') {
    session.send({ type: 'subAck', st: Status.INVALID_CHANNEL, cn });
    return;
  }
  if (cn.length > broker.config.MAX_CHANNEL_LENGTH) {
    broker.limitHit('MAX_CHANNEL_LENGTH', `sub to a ${cn.length}-character channel by ${session.describe()}`);
    session.send({ type: 'subAck', st: Status.INVALID_CHANNEL, cn });
    return;
  }
  const held = broker.index.channelsOf(session.clientId);
  if (held && held.size >= broker.config.MAX_SUBSCRIPTIONS_PER_CLIENT && !held.has(cn)) {
    broker.limitHit('MAX_SUBSCRIPTIONS_PER_CLIENT', `${session.describe()} holds ${held.size} subscriptions`);
    session.send({ type: 'subAck', st: Status.NOT_ALLOWED, cn });
    return;
  }
  const persistent = pr === 1;
  const status = asStatus(await callHook(broker, 'subscription', () => broker.app.validateSubscription(cn, persistent, session), Status.SERVER_ERROR));
  // Protocol 11.9: an answer that comes after the session ended changes nothing.
  if (!session.inSession) {
    broker.counters.lateHookAnswers++;
    return;
  }
  if (status !== Status.OK) {
    session.send({ type: 'subAck', st: status, cn });
    return;
  }
  try {
    await broker.subscribe(session.clientId, cn, persistent);
  } catch (error) {
    broker.log.error(`subscribing ${session.describe()} to ${quote(cn)}: ${(error as Error).message}`);
    session.send({ type: 'subAck', st: Status.SERVER_ERROR, cn });
    return;
  }
  session.send({ type: 'subAck', st: Status.OK, cn });
  await pushRetained(broker, session, [cn]).catch((error: Error) => {
    broker.log.error(`retained message of ${quote(cn)} for ${session.describe()}: ${error.message}`);
  });
}
