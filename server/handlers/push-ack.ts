import type { PushAckPacket } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';

/**
 * JMQT 5: a pushAck deletes this subscriber's stored copy. Decision: a pushAck
 * with a status other than OK keeps the copy, to be pushed again next session.
 */
export function handlePushAck(broker: Broker, session: Session, packet: PushAckPacket): void | Promise<void> {
  if (packet.st !== Status.OK) {
    broker.log.debug(`pushAck ${packet.id} with status ${packet.st} from ${session.describe()}: copy kept`);
    return;
  }
  const clientId = session.clientId;
  broker.storage.acknowledge(clientId, String(packet.id)).then((found) => {
    if (found) broker.queueDepths.add(clientId, -1);
  }, (error: Error) => {
    broker.log.error(`pushAck ${packet.id} from ${session.describe()}: ${error.message}`);
  });
}
