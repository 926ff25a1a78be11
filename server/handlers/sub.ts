/** Handler of `sub` (protocol 6.6): `$` and `#` channels cannot be subscribed by clients (11); a retained message follows the subAck. */
import type { SubPacket } from '../../shared/packets';
import { channelKind } from '../../shared/channel';
import { Status } from '../../shared/status';
import type { HandlerContext } from './context';
import type { Connection } from '../connection';
import { quote } from '../log-text';
import { asStatus, callHook } from './hook-call';

export async function handleSub(ctx: HandlerContext, connection: Connection, { cn, pr }: SubPacket): Promise<void> {
  if (channelKind(cn) !== 'normal') {
    connection.send({ type: 'subAck', st: Status.INVALID_CHANNEL, cn });
    return;
  }
  if (cn.length > ctx.config.MAX_CHANNEL_LENGTH) {
    ctx.limitHit('MAX_CHANNEL_LENGTH', `sub to a ${cn.length}-character channel by ${connection.describe()}`);
    connection.send({ type: 'subAck', st: Status.INVALID_CHANNEL, cn });
    return;
  }
  const held = ctx.channelsOf(connection.clientId);
  if (held && held.size >= ctx.config.MAX_SUBSCRIPTIONS_PER_CLIENT && !held.has(cn)) {
    ctx.limitHit('MAX_SUBSCRIPTIONS_PER_CLIENT', `${connection.describe()} holds ${held.size} subscriptions`);
    connection.send({ type: 'subAck', st: Status.NOT_ALLOWED, cn });
    return;
  }
  const persistent = pr === 1;
  const status = asStatus(await callHook(ctx, 'subscription', () => ctx.app.validateSubscription(cn, persistent, connection), Status.SERVER_ERROR));
  // Protocol 11.9: an answer that comes after the session ended changes nothing.
  if (!connection.inSession) {
    ctx.counters.lateHookAnswers++;
    return;
  }
  if (status !== Status.OK) {
    connection.send({ type: 'subAck', st: status, cn });
    return;
  }
  try {
    await ctx.subscribe(connection.clientId, cn, persistent);
  } catch (error) {
    ctx.log.error(`subscribing ${connection.describe()} to ${quote(cn)}: ${(error as Error).message}`);
    connection.send({ type: 'subAck', st: Status.SERVER_ERROR, cn });
    return;
  }
  connection.send({ type: 'subAck', st: Status.OK, cn });
  await ctx.replayer.pushRetained(connection, [cn]).catch((error: Error) => {
    ctx.log.error(`retained message of ${quote(cn)} for ${connection.describe()}: ${error.message}`);
  });
}
