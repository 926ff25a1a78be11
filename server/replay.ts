/**
 * What a new session receives right after connAck (JMQT 5 "Sessions"):
 * stored QoS 1 messages, oldest first, then the retained message of every
 * channel it is subscribed to.
 */
import { encodePush } from '../shared/codec';
import type { Broker } from './broker';
import { OutFrame } from './outbound';
import type { Session } from './session';
import type { QueuedMessage } from './storage/storage';

/** The push of one stored QoS 1 copy, with the server id its pushAck must echo. */
export function storedPush(message: QueuedMessage): OutFrame {
  return new OutFrame(encodePush(message.channel, message.data, message.sender, { id: message.id }));
}

export async function replayOnSessionStart(broker: Broker, session: Session): Promise<void> {
  const { clientId } = session;
  session.startReplay();
  try {
    for (const message of await broker.storage.queuedFor(clientId)) {
      session.replayPush(storedPush(message), message.id);
    }
  } finally {
    session.finishReplay();
  }
  await pushRetained(broker, session, [...(broker.index.channelsOf(clientId)?.keys() ?? [])]);
}

/** JMQT 5: retained messages go out with `rt:1`, no `id`, no `q`; none exist on `#` channels. */
export async function pushRetained(broker: Broker, session: Session, channels: string[]): Promise<void> {
  const wanted = channels.filter((channel) => channel[0] !== '#');
  if (wanted.length === 0) return;
  for (const message of await broker.storage.retainedFor(wanted)) {
    if (session.state !== 'session') return;
    broker.countOut(1);
    session.write(new OutFrame(encodePush(message.channel, message.data, message.sender, 'retained')));
  }
}
