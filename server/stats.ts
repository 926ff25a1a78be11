/** Counters the operator API reports; plain numbers, cheap on the hot path. */
export interface BrokerCounters {
  packetsIn: number;
  packetsOut: number;
  packetsInByType: Record<string, number>;
  packetsOutByType: Record<string, number>;
  /** Publishes accepted and routed. */
  messagesIn: number;
  /** Pushes written to subscribers. */
  messagesOut: number;
  /** Malformed packets without an ack type, and server-only packet types sent by clients. */
  droppedPackets: number;
  /** QoS 0 pushes not written because the subscriber's outbound buffer was full. */
  droppedPushes: number;
  /** Connections closed for a frame over MAX_PACKET_BYTES. */
  oversizedFrames: number;
  invalidUtf8: number;
  duplicatePublishes: number;
  /** QoS 1 pushes not written to a subscriber over its outbound cap; the stored copy comes back next session. */
  deferredPushes: number;
  /** Each configured limit, by key, and how often it was hit. */
  limitHits: Record<string, number>;
  /** Times a client went over its publish budget and was throttled. */
  throttledClients: number;
  /** QoS 1 copies removed to make room under QUEUE_POLICY drop-oldest (per client in QueueDepths). */
  evictedCopies: number;
  /** Client ids whose persistent state expired (SESSION_EXPIRY_SECONDS), and what went with them. */
  expiredClients: number;
  expiredSubscriptions: number;
  expiredCopies: number;
  /** Hook answers that came after their connection closed, and so changed nothing. */
  lateHookAnswers: number;
  /** Operator actions through the admin API (kick, subscribe, unsubscribe, purge, clear-retained, publish), by action. */
  adminActions: Record<string, number>;
}

import { PacketTypes } from '../shared/packets';

/** Every packet type at 0, so counting is a plain increment on an object of fixed shape. */
function perType(): Record<string, number> {
  return Object.fromEntries(Object.keys(PacketTypes).map((type) => [type, 0]));
}

export function newCounters(): BrokerCounters {
  return {
    packetsIn: 0, packetsOut: 0, packetsInByType: perType(), packetsOutByType: perType(), messagesIn: 0, messagesOut: 0, droppedPackets: 0,
    droppedPushes: 0, oversizedFrames: 0, invalidUtf8: 0, duplicatePublishes: 0, deferredPushes: 0,
    limitHits: {}, throttledClients: 0, evictedCopies: 0, expiredClients: 0, expiredSubscriptions: 0, expiredCopies: 0, lateHookAnswers: 0,
    adminActions: {},
  };
}
