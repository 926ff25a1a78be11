/** Handler of `pub` (protocol 7.1): limits → authorise (hook) → publish (plan, store, retain, route) → pubAck. */
import type { PubPacket } from '../../shared/packets';
import { channelKind } from '../../shared/channel';
import { Status } from '../../shared/status';
import type { HandlerContext } from './context';
import type { Connection } from '../connection';
import { quote } from '../log-text';
import { handleControl } from './control';
import { asStatus } from './hook-call';

/**
 * Kept synchronous for QoS 0 with a synchronous validator: no Promise per message.
 * A QoS 1 store is not awaited here, so the next packet is not held behind the
 * disk; storage commits in order, so pubAcks still leave in order.
 */
export function handlePub(ctx: HandlerContext, connection: Connection, packet: PubPacket, text: string): void | Promise<void> {
  // Protocol 11.5: every pub, control requests included, spends the publisher's budget.
  connection.charge(1, text.length);
  if (packet.id !== undefined && String(packet.id).length > ctx.config.MAX_ID_LENGTH) {
    ctx.limitHit('MAX_ID_LENGTH', `pub with a ${String(packet.id).length}-character id by ${connection.describe()}`);
    return answer(connection, packet, Status.INVALID_PACKET);
  }
  if (packet.cn.length > ctx.config.MAX_CHANNEL_LENGTH) {
    ctx.limitHit('MAX_CHANNEL_LENGTH', `pub to a ${packet.cn.length}-character channel by ${connection.describe()}`);
    return answer(connection, packet, Status.INVALID_CHANNEL);
  }
  if (channelKind(packet.cn) === 'control') return handleControl(ctx, connection, packet);
  // Inlined rather than through callHook: this runs once per message, and a closure per message shows in profiles.
  let verdict: unknown;
  try {
    verdict = ctx.app.validatePublish(packet.cn, packet.dt, packet.q, connection);
  } catch (error) {
    ctx.log.error(`publish hook threw: ${(error as Error)?.stack ?? error}`);
    verdict = Status.SERVER_ERROR;
  }
  if (verdict instanceof Promise) {
    return verdict.then(
      (status) => publishLate(ctx, connection, packet, status),
      (error: unknown) => {
        ctx.log.error(`publish hook rejected: ${(error as Error)?.stack ?? error}`);
        publishLate(ctx, connection, packet, Status.SERVER_ERROR);
      },
    );
  }
  publishAuthorised(ctx, connection, packet, verdict);
}

/** Protocol 11.9: an answer that comes after the session ended changes nothing. */
function publishLate(ctx: HandlerContext, connection: Connection, packet: PubPacket, verdict: unknown): void {
  if (!connection.inSession) {
    ctx.counters.lateHookAnswers++;
    return;
  }
  publishAuthorised(ctx, connection, packet, verdict);
}

function publishAuthorised(ctx: HandlerContext, connection: Connection, packet: PubPacket, verdict: unknown): void {
  const status = asStatus(verdict);
  if (status !== Status.OK) return answer(connection, packet, status);
  if (!ctx.router.ready) {
    // The cluster bus is down: say so, rather than reach only this node's subscribers.
    return answer(connection, packet, Status.SERVER_ERROR);
  }
  let result: number | Promise<number>;
  try {
    // Protocol 6.4: no retained messages on `#` channels. The flag is ignored there, not
    // refused: the original sample page sends every P2P message with rt:1.
    const retain = packet.rt === 1 && channelKind(packet.cn) !== 'p2p';
    result = ctx.publisher.publish({ channel: packet.cn, data: packet.dt, qos: packet.q, retain, sender: connection.clientId, pubId: packet.id });
  } catch (error) {
    ctx.log.error(`publishing to ${quote(packet.cn)} for ${connection.describe()}: ${(error as Error).message}`);
    return answer(connection, packet, Status.SERVER_ERROR);
  }
  if (typeof result === 'number') return answer(connection, packet, result);
  result.then(
    (stored) => answer(connection, packet, stored),
    (error: Error) => {
      ctx.log.error(`storing a publish to ${quote(packet.cn)} for ${connection.describe()}: ${error.message}`);
      answer(connection, packet, Status.SERVER_ERROR);
    },
  );
}

/** Protocol 7.2: QoS 1 is always answered; QoS 0 only when refused or failed, and only when it carries an id. */
function answer(connection: Connection, packet: PubPacket, status: number): void {
  if (packet.id === undefined) return;
  if (packet.q === 0 && status === Status.OK) return;
  connection.send({ type: 'pubAck', st: status, id: packet.id });
}
