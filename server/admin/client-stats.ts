/**
 * Counters per client id for GET /api/clients/:clientId: pushes delivered,
 * dropped by reason, deferred, refused requests by status, limit hits. Plain
 * numbers on an object the client's connection holds, so counting a push is
 * one increment. Kept for at most MAX_CLIENTS client ids, the one least
 * recently touched at a session start forgotten first.
 */

export interface ClientCounters {
  /** Pushes written to this client (live, replayed, retained). */
  delivered: number;
  /** QoS 1 pushes left in storage while its outbound buffer was over OUTBOUND_BUFFER_BYTES. */
  deferred: number;
  /** Dropped, by reason: QoS 0 pushes over the outbound cap; publishes refused for its full queue; copies evicted (drop-oldest), expired, purged by an operator. */
  dropped: { outboundCap: number; queueFull: number; evicted: number; expired: number; purged: number };
  /** Answers other than 1 to its requests, by status code. */
  refused: Record<string, number>;
  /** Limits it hit, by configuration key. */
  limitHits: Record<string, number>;
}

export function newClientCounters(): ClientCounters {
  return { delivered: 0, deferred: 0, dropped: { outboundCap: 0, queueFull: 0, evicted: 0, expired: 0, purged: 0 }, refused: {}, limitHits: {} };
}

/** Adds `from` into `into` (the counters of one client on several nodes). */
export function addCounters(into: ClientCounters, from: ClientCounters): ClientCounters {
  into.delivered += from.delivered;
  into.deferred += from.deferred;
  for (const key of Object.keys(into.dropped) as Array<keyof ClientCounters['dropped']>) into.dropped[key] += from.dropped[key] ?? 0;
  for (const [status, count] of Object.entries(from.refused)) into.refused[status] = (into.refused[status] ?? 0) + count;
  for (const [key, count] of Object.entries(from.limitHits)) into.limitHits[key] = (into.limitHits[key] ?? 0) + count;
  return into;
}

/** Where a connection counts before it has a session: nothing reads it. */
export const UNCOUNTED: ClientCounters = newClientCounters();

const MAX_CLIENTS = 100_000;

export class ClientStatsRegistry {
  private readonly byClient = new Map<string, ClientCounters>();

  constructor(private readonly max = MAX_CLIENTS) {}

  /** The counters of `clientId`, made when missing. */
  of(clientId: string): ClientCounters {
    let counters = this.byClient.get(clientId);
    if (!counters) {
      counters = newClientCounters();
      this.byClient.set(clientId, counters);
      if (this.byClient.size > this.max) this.byClient.delete(this.byClient.keys().next().value!);
    }
    return counters;
  }

  /** At a session start: the counters, moved to the newest end so a live client is forgotten last. */
  touch(clientId: string): ClientCounters {
    const counters = this.of(clientId);
    this.byClient.delete(clientId);
    this.byClient.set(clientId, counters);
    return counters;
  }

  peek(clientId: string): ClientCounters | undefined {
    return this.byClient.get(clientId);
  }
}
