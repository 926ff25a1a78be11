/**
 * Protocol 7.7: a QoS 1 pub resent with the same (client, pub id) within
 * QOS1_DEDUPE_SECONDS is the same message, acknowledged again with the first
 * answer and not distributed twice. Bounded in count and, through
 * MAX_ID_LENGTH, in bytes.
 */

/** Most (client, pub id) pairs remembered, whatever their age. */
const CAPACITY = 100_000;

export class ResendDedupe {
  /** `${client}\0${pubId}` → status of the first publish and when to forget it, oldest first. */
  private readonly recent = new Map<string, { status: Promise<number>; expires: number }>();

  constructor(private readonly windowMs: number) {}

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /** The answer of an earlier publish with this key, if it is still remembered. */
  seen(key: string): Promise<number> | undefined {
    return this.recent.get(key)?.status;
  }

  remember(key: string, status: Promise<number>): void {
    this.recent.set(key, { status, expires: Date.now() + this.windowMs });
    // A failed store is no message: the client's resend must be tried again.
    status.catch(() => this.recent.delete(key));
    if (this.recent.size > CAPACITY) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Forgets what is older than the window; entries are in insertion order, so it stops at the first young one. */
  expire(now = Date.now()): void {
    for (const [key, entry] of this.recent) {
      if (entry.expires > now) break;
      this.recent.delete(key);
    }
  }

  clear(): void {
    this.recent.clear();
  }
}
