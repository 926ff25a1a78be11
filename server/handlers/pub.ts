/** Handler of `pub` (protocol 7.1): limits → authorise (hook) → publish (plan, store, retain, route) → pubAck. */
import type { PubPacket } from '../../shared/packets';
import { channelKind } from '../../shared/channel';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';
import { quote } from '../log-text';
import { handleControl } from './control';
import { asStatus } from './hook-call';

/**
 * Kept synchronous for QoS 0 with a synchronous validator: no Promise per message.
 * A QoS 1 store is not awaited here, so the next packet is not held behind the
 * disk; storage commits in order, so pubAcks still leave in order.
 */
export function handlePub(broker: Broker, session: Session, packet: PubPacket, text: string): void | Promise<void> {
  // Protocol 11.5: every pub, control requests included, spends the publisher's budget.
  session.charge(1, text.length);
  if (packet.id !== undefined && String(packet.id).length > broker.config.MAX_ID_LENGTH) {
    broker.limitHit('MAX_ID_LENGTH', `pub with a ${String(packet.id).length}-character id by ${session.describe()}`);
    return answer(session, packet, Status.INVALID_PACKET);
  }
  if (packet.cn.length > broker.config.MAX_CHANNEL_LENGTH) {
    broker.limitHit('MAX_CHANNEL_LENGTH', `pub to a ${packet.cn.length}-character channel by ${session.describe()}`);
    return answer(session, packet, Status.INVALID_CHANNEL);
  }
  if (channelKind(packet.cn) === 'control') return handleControl(broker, session, packet);
  // Inlined rather than through callHook: this runs once per message, and a closure per message shows in profiles.
  let verdict: unknown;
  try {
    verdict = broker.app.validatePublish(packet.cn, packet.dt, packet.q, session);
  } catch (error) {
    broker.log.error(`publish hook threw: ${(error as Error)?.stack ?? error}`);
    verdict = Status.SERVER_ERROR;
  }
  if (verdict instanceof Promise) {
    return verdict.then(
      (status) => publishLate(broker, session, packet, status),
      (error: unknown) => {
        broker.log.error(`publish hook rejected: ${(error as Error)?.stack ?? error}`);
        publishLate(broker, session, packet, Status.SERVER_ERROR);
      },
    );
  }
  publishAuthorised(broker, session, packet, verdict);
}

/** Protocol 11.9: an answer that comes after the session ended changes nothing. */
function publishLate(broker: Broker, session: Session, packet: PubPacket, verdict: unknown): void {
  if (!session.inSession) {
    broker.counters.lateHookAnswers++;
    return;
  }
  publishAuthorised(broker, session, packet, verdict);
}

function publishAuthorised(broker: Broker, session: Session, packet: PubPacket, verdict: unknown): void {
  const status = asStatus(verdict);
  if (status !== Status.OK) return answer(session, packet, status);
  if (!broker.cluster.ready) {
    // The cluster bus is down: say so, rather than reach only this node's subscribers.
    return answer(session, packet, Status.SERVER_ERROR);
  }
  let result: number | Promise<number>;
  try {
    // JMQT 5: no retained messages on `#` channels. The flag is ignored there, not
    // refused: the original sample page sends every P2P message with rt:1.
    const retain = packet.rt === 1 && channelKind(packet.cn) !== 'p2p';
    result = broker.publish({ channel: packet.cn, data: packet.dt, qos: packet.q, retain, sender: session.clientId, pubId: packet.id });
  } catch (error) {
    broker.log.error(`publishing to ${quote(packet.cn)} for ${session.describe()}: ${(error as Error).message}`);
    return answer(session, packet, Status.SERVER_ERROR);
  }
  if (typeof result === 'number') return answer(session, packet, result);
  result.then(
    (stored) => answer(session, packet, stored),
    (error: Error) => {
      broker.log.error(`storing a publish to ${quote(packet.cn)} for ${session.describe()}: ${error.message}`);
      answer(session, packet, Status.SERVER_ERROR);
    },
  );
}

/** Protocol 7.2: QoS 1 is always answered; QoS 0 only when refused or failed, and only when it carries an id. */
function answer(session: Session, packet: PubPacket, status: number): void {
  if (packet.id === undefined) return;
  if (packet.q === 0 && status === Status.OK) return;
  session.send({ type: 'pubAck', st: status, id: packet.id });
}
