/**
 * QoS 1 copies waiting per client, kept in memory so the queue limit
 * (protocol 11.4) costs no query per publish. Storage stays the truth: a count
 * is reloaded from it whenever copies leave other than one by one
 * (unsubscribe, session end). On a single node the counts are exact; in a
 * cluster other nodes acknowledge copies too, so SharedQueueDepths checks a
 * full count against storage before it refuses anything.
 */
import type { Storage } from './storage/storage';

export class QueueDepths {
  private readonly depths = new Map<string, number>();
  /** Copies removed by QUEUE_POLICY drop-oldest, per client, since start (until the client id expires). */
  private readonly evictions = new Map<string, number>();

  constructor(private readonly storage: Storage) {}

  async load(): Promise<void> {
    this.depths.clear();
    for (const [clientId, count] of await this.storage.queuedCounts()) this.depths.set(clientId, count);
  }

  of(clientId: string): number {
    return this.depths.get(clientId) ?? 0;
  }

  add(clientId: string, count: number): void {
    const depth = this.of(clientId) + count;
    if (depth <= 0) this.depths.delete(clientId);
    else this.depths.set(clientId, depth);
  }

  evicted(clientId: string, count: number): void {
    this.evictions.set(clientId, (this.evictions.get(clientId) ?? 0) + count);
    this.add(clientId, -count);
  }

  evictedOf(clientId: string): number {
    return this.evictions.get(clientId) ?? 0;
  }

  /** The client id expired: nothing of it is left. */
  forget(clientId: string): void {
    this.depths.delete(clientId);
    this.evictions.delete(clientId);
  }

  async reload(clientId: string): Promise<void> {
    this.add(clientId, (await this.storage.queuedCount(clientId)) - this.of(clientId));
  }

  /** Of these clients whose count says full, those really at `max`: here the count is exact. */
  async confirmFull(clientIds: string[], _max: number): Promise<string[]> {
    return clientIds;
  }
}

/** Queue depths of a node in a cluster: a full count is only a hint until storage confirms it. */
export class SharedQueueDepths extends QueueDepths {
  override async confirmFull(clientIds: string[], max: number): Promise<string[]> {
    await Promise.all(clientIds.map((clientId) => this.reload(clientId)));
    return clientIds.filter((clientId) => this.of(clientId) >= max);
  }
}
