/** Handler of `pushAck` (protocol 7.6). */
import type { PushAckPacket } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { HandlerContext } from './context';
import type { Connection } from '../connection';
import { quote } from '../log-text';

/**
 * Protocol 7.6: a pushAck deletes this subscriber's stored copy. Decision: a pushAck
 * with a status other than OK keeps the copy, to be pushed again next session.
 */
export function handlePushAck(ctx: HandlerContext, connection: Connection, packet: PushAckPacket): void | Promise<void> {
  // Protocol 11.1: no copy has an id that long (the broker makes them), so there is nothing to look up.
  if (String(packet.id).length > ctx.config.MAX_ID_LENGTH) {
    ctx.counters.droppedPackets++;
    return;
  }
  if (packet.st !== Status.OK) {
    ctx.log.debug(`pushAck ${quote(packet.id)} with status ${packet.st} from ${connection.describe()}: copy kept`);
    return;
  }
  ctx.acknowledge(connection.clientId, String(packet.id)).catch((error: Error) => {
    ctx.log.error(`pushAck ${quote(packet.id)} from ${connection.describe()}: ${error.message}`);
  });
}
