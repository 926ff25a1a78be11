/** Handler of `pushAck` (protocol 7.6). */
import type { PushAckPacket } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';
import { quote } from '../log-text';

/**
 * JMQT 5: a pushAck deletes this subscriber's stored copy. Decision: a pushAck
 * with a status other than OK keeps the copy, to be pushed again next session.
 */
export function handlePushAck(broker: Broker, session: Session, packet: PushAckPacket): void | Promise<void> {
  // Protocol 11.1: no copy has an id that long (the broker makes them), so there is nothing to look up.
  if (String(packet.id).length > broker.config.MAX_ID_LENGTH) {
    broker.counters.droppedPackets++;
    return;
  }
  if (packet.st !== Status.OK) {
    broker.log.debug(`pushAck ${quote(packet.id)} with status ${packet.st} from ${session.describe()}: copy kept`);
    return;
  }
  const clientId = session.clientId;
  broker.storage.acknowledge(clientId, String(packet.id)).then((found) => {
    if (found) broker.queueDepths.add(clientId, -1);
  }, (error: Error) => {
    broker.log.error(`pushAck ${quote(packet.id)} from ${session.describe()}: ${error.message}`);
  });
}
