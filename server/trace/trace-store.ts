/**
 * What this node saw of recent messages, for GET /api/trace/:messageId:
 * published (on the publishing node), stored for whom, and per subscriber
 * pushed, deferred, acknowledged or dropped. Fed by small calls from the
 * pipeline steps; bounded in time (TRACE_SECONDS) and memory
 * (TRACE_MAX_MESSAGES, and at most WEIGHT_PER_MESSAGE entries per message on
 * average), oldest forgotten first. Copies that leave a queue wholesale
 * (unsubscribe, end of a temporary subscription, expiry, purge) leave a
 * marker per client rather than a step per message; trace-merge.ts applies
 * them. In a cluster every node keeps its own part; the answer merges them.
 */
import type { PushVia } from '../publish/message-id';

export type DropReason =
  | 'outbound cap' | 'queue full' | 'evicted' | 'expired' | 'purged' | 'unsubscribed' | 'temporary subscription ended';

export interface PublishedInfo {
  channel: string;
  /** Publisher's client id, `''` for the server. */
  publisher: string;
  qos: 0 | 1;
  retained: boolean;
  /** Size of `dt` as JSON, bytes. */
  bytes: number;
  at: number;
  /** The id the publisher chose. */
  pubId?: string;
  /** The pubAck status (the answer of a server-side publish), once known. */
  status?: number;
  /** QoS 0 (no step per subscriber): sessions pushed to here, plus nodes forwarded to. */
  reached?: number;
}

export interface TraceStep {
  kind: 'pushed' | 'deferred' | 'acked' | 'dropped';
  clientId: string;
  at: number;
  via?: PushVia;
  reason?: DropReason;
}

/** What one node saw of one message; travels over the bus as JSON. */
export interface NodeTrace {
  node: string;
  id: string;
  published?: PublishedInfo;
  /** Subscribers a copy was stored for (the first MAX_STORED). */
  stored?: string[];
  storedTotal?: number;
  storedAt?: number;
  steps: TraceStep[];
  /** Stored subscribers and steps past the per-message caps, not kept. */
  truncated: number;
}

/** Every copy of `clientId` (on `channels`, when named) stored before `at` left its queue for `reason`. */
export interface ClientMarker {
  clientId: string;
  reason: DropReason;
  at: number;
  channels?: string[];
}

interface TraceRecord {
  id: string;
  createdAt: number;
  pubKey?: string;
  published?: PublishedInfo;
  stored?: string[];
  storedTotal: number;
  storedAt?: number;
  steps: TraceStep[];
  truncated: number;
}

/** Per message: stored subscribers kept, and steps kept (less when the whole budget is small, so one message never fills it alone). */
export const MAX_STORED = 1000;
export const MAX_STEPS = 2000;
/** Entries (a record, a stored subscriber, a step) kept per TRACE_MAX_MESSAGES on average. */
const WEIGHT_PER_MESSAGE = 4;
const MAX_MARKERS = 10_000;

export class TraceStore {
  readonly enabled: boolean;
  private readonly records = new Map<string, TraceRecord>();
  /** `publisherId:pubId` → server id. */
  private readonly byPubKey = new Map<string, string>();
  private markers: ClientMarker[] = [];
  private weight = 0;
  private readonly maxWeight: number;
  private readonly maxStored: number;
  private readonly maxSteps: number;

  constructor(private readonly ttlMs: number, private readonly maxMessages: number) {
    this.enabled = maxMessages > 0;
    this.maxWeight = maxMessages * WEIGHT_PER_MESSAGE;
    this.maxStored = Math.min(MAX_STORED, Math.max(1, Math.floor(this.maxWeight / 4)));
    this.maxSteps = Math.min(MAX_STEPS, Math.max(1, Math.floor(this.maxWeight / 2)));
  }

  /** Messages traced now. */
  get size(): number {
    return this.records.size;
  }

  /** The message entered the pipeline here; answers `info`, which the caller completes (status) later. */
  published(id: string, info: PublishedInfo, pubKey?: string): PublishedInfo {
    const record = this.record(id);
    record.published = info;
    if (pubKey !== undefined) {
      record.pubKey = pubKey;
      this.byPubKey.set(pubKey, id);
    }
    return info;
  }

  /** Its copies are durable, one per subscriber named. */
  stored(id: string, clientIds: string[], at = Date.now()): void {
    const record = this.record(id);
    const kept = clientIds.length > this.maxStored ? clientIds.slice(0, this.maxStored) : clientIds;
    record.stored = kept;
    record.storedTotal = clientIds.length;
    record.storedAt = at;
    record.truncated += clientIds.length - kept.length;
    this.weight += kept.length;
    this.trim();
  }

  step(id: string, step: TraceStep): void {
    const record = this.record(id);
    if (record.steps.length >= this.maxSteps) {
      record.truncated++;
      return;
    }
    record.steps.push(step);
    this.weight++;
    this.trim();
  }

  marker(marker: ClientMarker): void {
    this.markers.push(marker);
    if (this.markers.length >= 2 * MAX_MARKERS) this.markers = this.markers.slice(-MAX_MARKERS);
  }

  /** The server id a key names: itself when traced, else a `publisherId:pubId` seen here. */
  resolve(key: string): string | undefined {
    return this.records.has(key) ? key : this.byPubKey.get(key);
  }

  view(key: string, node: string): NodeTrace | null {
    const id = this.resolve(key);
    const record = id === undefined ? undefined : this.records.get(id);
    if (!record) return null;
    const view: NodeTrace = { node, id: record.id, steps: record.steps.slice(), truncated: record.truncated };
    if (record.published) view.published = { ...record.published };
    if (record.stored) Object.assign(view, { stored: record.stored.slice(), storedTotal: record.storedTotal, storedAt: record.storedAt });
    return view;
  }

  /** The first marker since `since` of each client named that covers `channel`. */
  markersFor(clientIds: readonly string[], since: number, channel: string): ClientMarker[] {
    const wanted = new Set(clientIds);
    const found = new Map<string, ClientMarker>();
    for (const marker of this.markers) {
      if (marker.at < since || !wanted.has(marker.clientId) || found.has(marker.clientId)) continue;
      if (marker.channels && !marker.channels.includes(channel)) continue;
      found.set(marker.clientId, marker);
    }
    return [...found.values()];
  }

  /** Forgets what is older than TRACE_SECONDS; called once a second. */
  expire(now = Date.now()): void {
    const before = now - this.ttlMs;
    for (const record of this.records.values()) {
      if (record.createdAt >= before) break;
      this.forget(record);
    }
    let old = 0;
    while (old < this.markers.length && this.markers[old]!.at < before) old++;
    if (old > 0) this.markers = this.markers.slice(old);
  }

  clear(): void {
    this.records.clear();
    this.byPubKey.clear();
    this.markers = [];
    this.weight = 0;
  }

  private record(id: string): TraceRecord {
    let record = this.records.get(id);
    if (!record) {
      record = { id, createdAt: Date.now(), storedTotal: 0, steps: [], truncated: 0 };
      this.records.set(id, record);
      this.weight++;
      this.trim();
    }
    return record;
  }

  /** Oldest first, until both bounds hold. */
  private trim(): void {
    while (this.records.size > this.maxMessages || this.weight > this.maxWeight) {
      const oldest = this.records.values().next().value;
      if (!oldest) return;
      this.forget(oldest);
    }
  }

  private forget(record: TraceRecord): void {
    this.records.delete(record.id);
    this.weight -= 1 + (record.stored?.length ?? 0) + record.steps.length;
    if (record.pubKey !== undefined && this.byPubKey.get(record.pubKey) === record.id) this.byPubKey.delete(record.pubKey);
  }
}
