/**
 * Recent broker events for operators (GET /api/events, and live over
 * /api/events/live): session start, session end with its reason, takeover,
 * kick, limit hit, drop with its reason, admin action. A bounded ring, newest
 * first on the way out; events that can come in floods (limit hits, drops)
 * are folded: at most one a second per kind, client and key, its `count`
 * growing meanwhile.
 */

export type EventKind = 'session-start' | 'session-end' | 'takeover' | 'kick' | 'limit' | 'drop' | 'admin';

export interface BrokerEvent {
  /** Order of recording on its node. */
  seq: number;
  /** ms since epoch. */
  at: number;
  node: string;
  kind: EventKind;
  clientId?: string;
  /** Why a session ended or a message was dropped. */
  reason?: string;
  /** Limit hit: the configuration key. */
  key?: string;
  /** Admin action: what, on which target, by which address. */
  action?: string;
  target?: string;
  by?: string;
  transport?: string;
  remoteHost?: string;
  detail?: string;
  /** How many events this one stands for (folded floods); 1 otherwise. */
  count: number;
}

/** An event as the API shows it: `at` as an ISO time. */
export function eventView(event: BrokerEvent): Omit<BrokerEvent, 'at'> & { at: string } {
  return { ...event, at: new Date(event.at).toISOString() };
}

export type EventFields = Omit<BrokerEvent, 'seq' | 'at' | 'node' | 'kind' | 'count'>;
export type EventListener = (event: BrokerEvent) => void;

export const DEFAULT_EVENT_CAPACITY = 10_000;
const FOLD_MS = 1000;
const MAX_FOLDING = 10_000;

export class EventLog {
  private readonly ring: Array<BrokerEvent | undefined>;
  private next = 0;
  private seq = 0;
  private readonly folding = new Map<string, BrokerEvent>();
  private readonly listeners = new Set<EventListener>();

  constructor(readonly node: string, private readonly capacity = DEFAULT_EVENT_CAPACITY) {
    this.ring = new Array(capacity);
  }

  get watchers(): number {
    return this.listeners.size;
  }

  /** Records an event; with `foldKey`, one recorded less than a second ago under that key counts it instead. */
  record(kind: EventKind, fields: EventFields, foldKey?: string): void {
    const at = Date.now();
    if (foldKey !== undefined) {
      const key = `${kind}\0${foldKey}`;
      const last = this.folding.get(key);
      if (last && at - last.at < FOLD_MS) {
        last.count++;
        return;
      }
      if (this.folding.size >= MAX_FOLDING) this.folding.clear();
      const event = this.add(kind, fields, at);
      this.folding.set(key, event);
      return;
    }
    this.add(kind, fields, at);
  }

  /** Newest first; only those of `clientId` when given. */
  recent(limit: number, clientId?: string): BrokerEvent[] {
    const found: BrokerEvent[] = [];
    for (let n = 1; n <= this.capacity && found.length < limit; n++) {
      const event = this.ring[(this.next - n + this.capacity) % this.capacity];
      if (!event) break;
      if (clientId === undefined || event.clientId === clientId) found.push(event);
    }
    return found;
  }

  /** Calls `listener` with every event from now on (this node's, and those relayed from others); answers the unsubscribe. */
  listen(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Another node's event, for the live listeners here only (GET /api/events asks every node itself). */
  relay(event: BrokerEvent): void {
    this.emit(event);
  }

  private add(kind: EventKind, fields: EventFields, at: number): BrokerEvent {
    const event: BrokerEvent = { seq: ++this.seq, at, node: this.node, kind, ...fields, count: 1 };
    this.ring[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    this.emit(event);
    return event;
  }

  private emit(event: BrokerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own (a closed socket); the others still hear it.
      }
    }
  }
}
