/**
 * What a new session receives right after connAck (protocol 5.5): stored QoS 1
 * messages, oldest first, then the retained message of every channel it is
 * subscribed to; and the retained message after a sub (7.9). Both are read
 * in pages and written only while the client's outbound side is under its
 * cap, so a long queue or many large retained messages never sit in memory
 * whole (protocol 11.3).
 */
import { encodePush } from '../shared/codec';
import type { Connection } from './connection';
import { OutFrame } from './outbound';
import { MessageFrame, type PushVia } from './publish/message-id';
import type { QueuedMessage, Storage } from './storage/storage';
import type { SubscriptionIndex } from './subscription-index';

/** Stored copies read per page. */
const QUEUE_PAGE = 256;
/** Channels whose retained messages are read at once (each up to MAX_PACKET_BYTES). */
const RETAINED_PAGE = 16;

/** The push of one stored QoS 1 copy, with the server id its pushAck must echo. */
export function storedPush(message: QueuedMessage, via: PushVia): MessageFrame {
  return new MessageFrame(encodePush(message.channel, message.data, message.sender, { id: message.id }), message.id, via);
}

export class Replayer {
  constructor(
    private readonly storage: Pick<Storage, 'queuedPage' | 'queuedCounts' | 'retainedFor'>,
    private readonly index: Pick<SubscriptionIndex, 'channelsOf'>,
  ) {}

  async replay(connection: Connection): Promise<void> {
    connection.startReplay();
    try {
      // Until a page comes back empty: copies stored meanwhile are in a later page,
      // since live QoS 1 pushes are left to the replay while it runs.
      for (let after = 0; ;) {
        const page = await this.storage.queuedPage(connection.clientId, after, QUEUE_PAGE);
        if (page.length === 0) break;
        for (const message of page) {
          if (connection.outboundFull) await connection.whenWritable();
          if (!connection.inSession) return;
          connection.replayPush(storedPush(message, 'replay'));
        }
        after = page[page.length - 1]!.seq;
      }
    } finally {
      connection.finishReplay();
    }
    await this.pushRetained(connection, [...(this.index.channelsOf(connection.clientId)?.keys() ?? [])]);
  }

  /** Protocol 7.9: retained messages go out with `rt:1`, no `id`, no `q`; none exist on `#` channels. */
  async pushRetained(connection: Connection, channels: string[]): Promise<void> {
    const wanted = channels.filter((channel) => channel[0] !== '#');
    for (let start = 0; start < wanted.length; start += RETAINED_PAGE) {
      if (connection.outboundFull) await connection.whenWritable();
      if (!connection.inSession) return;
      for (const message of await this.storage.retainedFor(wanted.slice(start, start + RETAINED_PAGE))) {
        if (!connection.inSession) return;
        connection.replayPush(new OutFrame(encodePush(message.channel, message.data, message.sender, 'retained')));
      }
    }
  }

  /**
   * After a cluster bus outage (protocol 10.6): a QoS 1 publish acknowledged
   * just before or during it is stored, but its forward to this node may have
   * been lost with the bus. Pushing what is waiting for the live sessions now
   * keeps "at least once" without waiting for a reconnect; a copy that did
   * arrive comes twice, which QoS 1 allows. Answers how many were pushed.
   */
  async redeliver(sessions: Iterable<Connection>): Promise<number> {
    const waiting = await this.storage.queuedCounts();
    let pushed = 0;
    for (const connection of [...sessions]) {
      if (!waiting.get(connection.clientId)) continue;
      // In pages, and deferred once the client's outbound side is full: the copies stay stored.
      for (let after = 0; connection.inSession && !connection.outboundFull;) {
        const page = await this.storage.queuedPage(connection.clientId, after, QUEUE_PAGE);
        if (page.length === 0) break;
        for (const message of page) connection.pushQos1(storedPush(message, 'redelivery'));
        pushed += page.length;
        after = page[page.length - 1]!.seq;
      }
    }
    return pushed;
  }
}
