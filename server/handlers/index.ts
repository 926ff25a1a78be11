/**
 * The dispatcher (ARCHITECTURE rule 1): decode, answer malformed packets,
 * apply the pre-session rules, then switch on the type.
 */
import { decode, type DecodeError } from '../../shared/codec';
import { PacketTypes, type ClientPacket, type Packet } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';
import { handleAuth } from './auth';
import { handleConn } from './conn';
import { handleHb } from './hb';
import { handleSub } from './sub';
import { handleUnsub } from './unsub';
import { handlePub } from './pub';
import { handlePushAck } from './push-ack';
import { handleDisconn } from './disconn';

export function dispatchText(broker: Broker, session: Session, text: string): void | Promise<void> {
  const result = decode(text);
  if (!result.ok) return answerMalformed(broker, session, result);
  const packet = result.packet;
  broker.counters.packetsInByType[packet.type]!++;
  if (PacketTypes[packet.type].from !== 'C') {
    broker.counters.droppedPackets++;
    broker.log.debug(`dropped server-only packet '${packet.type}' from ${session.describe()}`);
    return;
  }
  if (session.state !== 'session' && !refuseBeforeSession(session, packet as ClientPacket)) return;
  return dispatch(broker, session, packet as ClientPacket, text);
}

function dispatch(broker: Broker, session: Session, packet: ClientPacket, text: string): void | Promise<void> {
  switch (packet.type) {
    case 'auth': return handleAuth(broker, session, packet, text);
    case 'conn': return handleConn(broker, session, packet);
    case 'hb': return handleHb(session);
    case 'sub': return handleSub(broker, session, packet);
    case 'unsub': return handleUnsub(broker, session, packet);
    case 'pub': return handlePub(broker, session, packet, text);
    case 'pushAck': return handlePushAck(broker, session, packet);
    case 'disconn': return handleDisconn(session);
  }
}

/**
 * JMQT 5 decision: before a session only auth and conn are served; sub, unsub
 * and pub get status 7; hb, pushAck and disconn are ignored. Answers whether
 * the packet may go on to its handler.
 */
function refuseBeforeSession(session: Session, packet: ClientPacket): boolean {
  switch (packet.type) {
    case 'auth': case 'conn': return true;
    case 'sub': case 'unsub':
      session.send({ type: `${packet.type}Ack`, st: Status.NOT_ALLOWED, cn: packet.cn });
      return false;
    case 'pub':
      session.send(packet.id === undefined ? { type: 'pubAck', st: Status.NOT_ALLOWED } : { type: 'pubAck', st: Status.NOT_ALLOWED, id: packet.id });
      return false;
    default:
      return false;
  }
}

/** JMQT 3/4: a malformed packet gets its ack with status 10 (11 for a bad channel) when it has an ack type. */
function answerMalformed(broker: Broker, session: Session, error: DecodeError): void {
  broker.log.debug(`malformed packet from ${session.describe()}: ${error.message}`);
  const reply = malformedReply(error);
  if (reply) session.send(reply);
  else broker.counters.droppedPackets++;
}

function malformedReply({ type, status, message, cn, id }: DecodeError): Extract<Packet, { type: 'authAck' | 'connAck' | 'subAck' | 'unsubAck' | 'pubAck' }> | null {
  switch (type) {
    case 'auth': return { type: 'authAck', st: status, mg: message };
    case 'conn': return { type: 'connAck', st: status };
    case 'sub': return { type: 'subAck', st: status, cn: cn ?? '' };
    case 'unsub': return { type: 'unsubAck', st: status, cn: cn ?? '' };
    // JMQT 5: a pub the server cannot parse is answered only when it carries an id.
    case 'pub': return id === undefined ? null : { type: 'pubAck', st: status, id };
    default: return null;
  }
}
