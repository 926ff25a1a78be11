/**
 * What a new session receives right after connAck (protocol 5.5): stored QoS 1
 * messages, oldest first, then the retained message of every channel it is
 * subscribed to. Both are read in pages and written only while the client's
 * outbound side is under its cap, so a long queue or many large retained
 * messages never sit in memory whole (protocol 11.3).
 */
import { encodePush } from '../shared/codec';
import type { Broker } from './broker';
import { OutFrame } from './outbound';
import type { Session } from './session';
import type { QueuedMessage } from './storage/storage';

/** Stored copies read per page. */
const QUEUE_PAGE = 256;
/** Channels whose retained messages are read at once (each up to MAX_PACKET_BYTES). */
const RETAINED_PAGE = 16;

/** The push of one stored QoS 1 copy, with the server id its pushAck must echo. */
export function storedPush(message: QueuedMessage): OutFrame {
  return new OutFrame(encodePush(message.channel, message.data, message.sender, { id: message.id }));
}

export async function replayOnSessionStart(broker: Broker, session: Session): Promise<void> {
  const { clientId } = session;
  session.startReplay();
  try {
    // Until a page comes back empty: copies stored meanwhile are in a later page,
    // since live QoS 1 pushes are left to the replay while it runs.
    for (let after = 0; ;) {
      const page = await broker.storage.queuedPage(clientId, after, QUEUE_PAGE);
      if (page.length === 0) break;
      for (const message of page) {
        if (session.outboundFull) await session.whenWritable();
        if (!session.inSession) return;
        session.replayPush(storedPush(message));
      }
      after = page[page.length - 1]!.seq;
    }
  } finally {
    session.finishReplay();
  }
  await pushRetained(broker, session, [...(broker.index.channelsOf(clientId)?.keys() ?? [])]);
}

/** Protocol 7.9: retained messages go out with `rt:1`, no `id`, no `q`; none exist on `#` channels. */
export async function pushRetained(broker: Broker, session: Session, channels: string[]): Promise<void> {
  const wanted = channels.filter((channel) => channel[0] !== '#');
  for (let start = 0; start < wanted.length; start += RETAINED_PAGE) {
    if (session.outboundFull) await session.whenWritable();
    if (!session.inSession) return;
    for (const message of await broker.storage.retainedFor(wanted.slice(start, start + RETAINED_PAGE))) {
      if (!session.inSession) return;
      broker.countOut(1);
      session.write(new OutFrame(encodePush(message.channel, message.data, message.sender, 'retained')));
    }
  }
}
