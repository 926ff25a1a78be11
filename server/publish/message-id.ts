/**
 * Server ids of messages (protocol 7.5) and the frames that carry one. An id
 * is a random prefix drawn at start-up (8 characters) and a counter in base
 * 36 that starts from the clock (ms × 1000) and only grows, so ids never
 * repeat across restarts and nodes, and an id tells when its message was
 * published: the age of a queued copy, without a column for it in storage.
 */
import { randomBytes } from 'node:crypto';
import { OutFrame } from '../outbound';

const PREFIX_LENGTH = 8;
/** Counter values per millisecond before the counter runs ahead of the clock. */
const PER_MS = 1000;
/** Ids decoding to an earlier time were made before ids carried one. */
const EARLIEST = Date.UTC(2020, 0, 1);

export class MessageIds {
  private readonly prefix = randomBytes(6).toString('base64url');
  private last = 0;

  next(): string {
    const now = Date.now() * PER_MS;
    this.last = this.last >= now ? this.last + 1 : now;
    return this.prefix + this.last.toString(36);
  }
}

/** When the message of server id `id` was published, ms since epoch; null for an id that tells no time. */
export function messageTime(id: string): number | null {
  if (id.length <= PREFIX_LENGTH || id.length > PREFIX_LENGTH + 11) return null;
  const count = parseInt(id.slice(PREFIX_LENGTH), 36);
  if (!Number.isSafeInteger(count)) return null;
  const at = Math.floor(count / PER_MS);
  return at >= EARLIEST && at <= Date.now() + 60_000 ? at : null;
}

/** How a QoS 1 push reached a subscriber: live, in the session-start replay, or pushed again after a bus outage. */
export type PushVia = 'live' | 'replay' | 'redelivery';

/** The push of a QoS 1 message, knowing its server id, so the trace can name what was written. */
export class MessageFrame extends OutFrame {
  constructor(text: string, readonly messageId: string, readonly via: PushVia = 'live') {
    super(text);
  }
}
