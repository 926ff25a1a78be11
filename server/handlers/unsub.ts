/**
 * Handler of `unsub` (protocol 6.6): `$` and `#` channels are refused with 11.
 * Decision: unsubscribing a channel one is not subscribed to answers 0.
 */
import type { UnsubPacket } from '../../shared/packets';
import { channelKind } from '../../shared/channel';
import { Status } from '../../shared/status';
import type { HandlerContext } from './context';
import type { Connection } from '../connection';
import { quote } from '../log-text';
import { asStatus, callHook } from './hook-call';

export async function handleUnsub(ctx: HandlerContext, connection: Connection, { cn }: UnsubPacket): Promise<void> {
  if (channelKind(cn) !== 'normal') {
    connection.send({ type: 'unsubAck', st: Status.INVALID_CHANNEL, cn });
    return;
  }
  if (cn.length > ctx.config.MAX_CHANNEL_LENGTH) {
    ctx.limitHit('MAX_CHANNEL_LENGTH', `unsub from a ${cn.length}-character channel by ${connection.describe()}`);
    connection.send({ type: 'unsubAck', st: Status.INVALID_CHANNEL, cn });
    return;
  }
  const status = asStatus(await callHook(ctx, 'unsubscription', () => ctx.app.validateUnsubscription(cn, connection), Status.SERVER_ERROR));
  // Protocol 11.9: an answer that comes after the session ended changes nothing.
  if (!connection.inSession) {
    ctx.counters.lateHookAnswers++;
    return;
  }
  if (status !== Status.OK) {
    connection.send({ type: 'unsubAck', st: status, cn });
    return;
  }
  try {
    const existed = await ctx.unsubscribe(connection.clientId, cn);
    connection.send({ type: 'unsubAck', st: existed ? Status.OK : Status.FAILED, cn });
  } catch (error) {
    ctx.log.error(`unsubscribing ${connection.describe()} from ${quote(cn)}: ${(error as Error).message}`);
    connection.send({ type: 'unsubAck', st: Status.SERVER_ERROR, cn });
  }
}
