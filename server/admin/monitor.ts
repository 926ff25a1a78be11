/**
 * What operators can see of the broker beyond its counters: the trace of
 * recent messages, recent events, and counters per client. The pipeline
 * steps (publisher, connection, replay, acknowledge, expiry, session
 * lifecycle) report here with small calls; QoS 0 costs nothing per push
 * unless a push is dropped.
 */
import type { Config } from '../config';
import { EventLog, type EventFields } from '../events/event-log';
import type { Peer } from '../hooks';
import type { OutFrame } from '../outbound';
import { MessageFrame } from '../publish/message-id';
import type { PublishObserver } from '../publish/publisher';
import { TraceStore, type DropReason, type PublishedInfo } from '../trace/trace-store';
import { ClientStatsRegistry } from './client-stats';

/** How a session ended, for its event: by an operator, taken over, or any other way. */
export type SessionEnd = 'kick' | 'takeover' | 'end';

export class Monitor implements PublishObserver {
  readonly trace: TraceStore;
  readonly events: EventLog;
  readonly clients = new ClientStatsRegistry();

  constructor(config: Pick<Config, 'TRACE_SECONDS' | 'TRACE_MAX_MESSAGES'>, readonly node: string) {
    this.trace = new TraceStore(config.TRACE_SECONDS * 1000, config.TRACE_MAX_MESSAGES);
    this.events = new EventLog(node);
  }

  get tracing(): boolean {
    return this.trace.enabled;
  }

  // PublishObserver

  published(id: string, info: PublishedInfo, pubKey?: string): PublishedInfo | null {
    return this.tracing ? this.trace.published(id, info, pubKey) : null;
  }

  stored(id: string, clientIds: string[]): void {
    if (this.tracing && clientIds.length > 0) this.trace.stored(id, clientIds);
  }

  queueFull(id: string, clientIds: string[]): void {
    const at = Date.now();
    for (const clientId of clientIds) {
      this.clients.of(clientId).dropped.queueFull++;
      if (this.tracing) this.trace.step(id, { kind: 'dropped', clientId, at, reason: 'queue full' });
      this.drop(clientId, 'queue full');
    }
  }

  evicted(clientId: string, count: number, ids: string[]): void {
    this.clients.of(clientId).dropped.evicted += count;
    const at = Date.now();
    if (this.tracing) for (const id of ids) this.trace.step(id, { kind: 'dropped', clientId, at, reason: 'evicted' });
    this.drop(clientId, 'evicted', `${count} oldest queued cop(ies)`);
  }

  // Connections and sessions

  /** A QoS 1 push was written, or deferred for a full outbound buffer. */
  pushed(clientId: string, frame: OutFrame, deferred: boolean): void {
    if (!this.tracing || !(frame instanceof MessageFrame)) return;
    const at = Date.now();
    this.trace.step(frame.messageId, deferred ? { kind: 'deferred', clientId, at } : { kind: 'pushed', clientId, at, via: frame.via });
  }

  /** A QoS 0 push was dropped for a full outbound buffer (counted on the connection). */
  droppedOutbound(clientId: string): void {
    this.drop(clientId, 'outbound cap');
  }

  acked(clientId: string, id: string): void {
    if (this.tracing) this.trace.step(id, { kind: 'acked', clientId, at: Date.now() });
  }

  /** Copies of `clientId` left its queue wholesale (on `channels` only, when named); `count` when known. */
  lostCopies(clientId: string, reason: DropReason, channels?: string[], count?: number): void {
    if (count !== undefined && (reason === 'expired' || reason === 'purged')) this.clients.of(clientId).dropped[reason] += count;
    if (this.tracing) this.trace.marker(channels ? { clientId, reason, at: Date.now(), channels } : { clientId, reason, at: Date.now() });
    if (count) this.drop(clientId, reason, `${count} queued QoS 1 cop(ies)`);
  }

  limitHit(key: string, clientId: string | undefined, detail: string): void {
    if (clientId) {
      const hits = this.clients.of(clientId).limitHits;
      hits[key] = (hits[key] ?? 0) + 1;
    }
    this.events.record('limit', { key, clientId, detail }, `${key}\0${clientId ?? ''}`);
  }

  sessionStarted(peer: Peer): void {
    this.events.record('session-start', { clientId: peer.clientId, transport: peer.protocol, remoteHost: peer.remoteHost });
  }

  sessionEnded(peer: Peer, reason: string, how: SessionEnd): void {
    const kind = how === 'end' ? 'session-end' : how;
    this.events.record(kind, { clientId: peer.clientId, reason, transport: peer.protocol, remoteHost: peer.remoteHost });
  }

  /** An operator's action through the admin API. */
  admin(action: string, target: string, by: string, fields: EventFields = {}): void {
    this.events.record('admin', { action, target, by, ...fields });
  }

  private drop(clientId: string, reason: DropReason, detail?: string): void {
    this.events.record('drop', detail === undefined ? { clientId, reason } : { clientId, reason, detail }, `${clientId}\0${reason}`);
  }
}
