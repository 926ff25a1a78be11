/**
 * The dispatcher (ARCHITECTURE rule 1): decode, answer malformed packets,
 * apply the pre-session rules, then switch on the type.
 */
import { decode, type DecodeError } from '../../shared/codec';
import { PacketTypes, type ClientPacket, type Packet } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { HandlerContext } from './context';
import type { Connection } from '../connection';
import { handleAuth } from './auth';
import { handleConn } from './conn';
import { handleHb } from './hb';
import { handleSub } from './sub';
import { handleUnsub } from './unsub';
import { handlePub } from './pub';
import { handlePushAck } from './push-ack';
import { handleDisconn } from './disconn';

/** The dispatcher of one broker: connections hand it each inbound packet's text. */
export class Dispatcher {
  constructor(private readonly ctx: HandlerContext) {}

  handleText(connection: Connection, text: string): void | Promise<void> {
    this.ctx.counters.packetsIn++;
    return dispatchText(this.ctx, connection, text);
  }
}

function dispatchText(ctx: HandlerContext, connection: Connection, text: string): void | Promise<void> {
  const result = decode(text);
  if (!result.ok) return answerMalformed(ctx, connection, result);
  const packet = result.packet;
  ctx.counters.packetsInByType[packet.type]!++;
  if (PacketTypes[packet.type].from !== 'C') {
    ctx.counters.droppedPackets++;
    ctx.log.debug(`dropped server-only packet '${packet.type}' from ${connection.describe()}`);
    return;
  }
  if (connection.state !== 'session' && !refuseBeforeSession(connection, packet as ClientPacket)) return;
  return dispatch(ctx, connection, packet as ClientPacket, text);
}

function dispatch(ctx: HandlerContext, connection: Connection, packet: ClientPacket, text: string): void | Promise<void> {
  switch (packet.type) {
    case 'auth': return handleAuth(ctx, connection, packet, text);
    case 'conn': return handleConn(ctx, connection, packet);
    case 'hb': return handleHb(connection);
    case 'sub': return handleSub(ctx, connection, packet);
    case 'unsub': return handleUnsub(ctx, connection, packet);
    case 'pub': return handlePub(ctx, connection, packet, text);
    case 'pushAck': return handlePushAck(ctx, connection, packet);
    case 'disconn': return handleDisconn(connection);
  }
}

/**
 * Protocol 5.6 decision: before a session only auth and conn are served; sub, unsub
 * and pub get status 7; hb, pushAck and disconn are ignored. Answers whether
 * the packet may go on to its handler.
 */
function refuseBeforeSession(connection: Connection, packet: ClientPacket): boolean {
  switch (packet.type) {
    case 'auth': case 'conn': return true;
    case 'sub': case 'unsub':
      connection.send({ type: `${packet.type}Ack`, st: Status.NOT_ALLOWED, cn: packet.cn });
      return false;
    case 'pub':
      connection.send(packet.id === undefined ? { type: 'pubAck', st: Status.NOT_ALLOWED } : { type: 'pubAck', st: Status.NOT_ALLOWED, id: packet.id });
      return false;
    default:
      return false;
  }
}

/** Protocol 2.3: a malformed packet gets its ack with status 10 (11 for a bad channel) when it has an ack type. */
function answerMalformed(ctx: HandlerContext, connection: Connection, error: DecodeError): void {
  ctx.log.debug(`malformed packet from ${connection.describe()}: ${error.message}`);
  const reply = malformedReply(error);
  if (reply) connection.send(reply);
  else ctx.counters.droppedPackets++;
}

function malformedReply({ type, status, message, cn, id }: DecodeError): Extract<Packet, { type: 'authAck' | 'connAck' | 'subAck' | 'unsubAck' | 'pubAck' }> | null {
  switch (type) {
    case 'auth': return { type: 'authAck', st: status, mg: message };
    case 'conn': return { type: 'connAck', st: status };
    case 'sub': return { type: 'subAck', st: status, cn: cn ?? '' };
    case 'unsub': return { type: 'unsubAck', st: status, cn: cn ?? '' };
    // Protocol 2.3: a pub the server cannot parse is answered only when it carries an id.
    case 'pub': return id === undefined ? null : { type: 'pubAck', st: status, id };
    default: return null;
  }
}
