/**
 * One owner per client id at a time. A session start claims the client id
 * and gets a fencing value that only grows; the owner renews a lease, and a
 * node that cannot prove its claim within the lease stops delivering.
 */

export interface Ownership {
  /** Makes this node the owner of `clientId`; answers the new, larger fence. */
  claim(clientId: string): Promise<number>;
  /** True while this node holds `clientId` with `fence`. */
  holds(clientId: string, fence: number): Promise<boolean>;
  /** Extends the leases held; answers the client ids this node no longer owns. */
  renew(held: Array<[string, number]>): Promise<string[]>;
  release(clientId: string, fence: number): Promise<void>;
  /** Lease length, ms: how long a claim stays valid without renewal. */
  readonly leaseMs: number;
}

/**
 * A single node owns every client id it serves. One counter for all client
 * ids keeps fences growing after a release too, with nothing kept per
 * client id once it is released.
 */
export class LocalOwnership implements Ownership {
  readonly leaseMs = Number.POSITIVE_INFINITY;
  /** Client id → fence of its current claim. */
  private readonly fences = new Map<string, number>();
  private lastFence = 0;

  async claim(clientId: string): Promise<number> {
    const fence = ++this.lastFence;
    this.fences.set(clientId, fence);
    return fence;
  }

  async holds(clientId: string, fence: number): Promise<boolean> {
    return this.fences.get(clientId) === fence;
  }

  async renew(held: Array<[string, number]>): Promise<string[]> {
    return held.filter(([clientId, fence]) => this.fences.get(clientId) !== fence).map(([clientId]) => clientId);
  }

  async release(clientId: string, fence: number): Promise<void> {
    if (this.fences.get(clientId) === fence) this.fences.delete(clientId);
  }
}
