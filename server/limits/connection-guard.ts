/**
 * Per remote address: how many connections are open, and how many were
 * opened in the current second, so one flapping client or a reconnect storm
 * cannot take every socket of the broker.
 */
export type Refusal = 'connections per address' | 'connection rate per address';

export class ConnectionGuard {
  private readonly open = new Map<string, number>();
  private readonly attempts = new Map<string, number>();
  private second = 0;

  constructor(
    /** 0: no limit. */
    private readonly maxPerAddress: number,
    /** Per second; 0: no limit. */
    private readonly ratePerAddress: number,
  ) {}

  /** Answers why a new connection from `address` is refused, or null and counts it. */
  admit(address: string, now = Date.now()): Refusal | null {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.attempts.clear();
    }
    const attempts = (this.attempts.get(address) ?? 0) + 1;
    this.attempts.set(address, attempts);
    if (this.ratePerAddress > 0 && attempts > this.ratePerAddress) return 'connection rate per address';
    const open = this.open.get(address) ?? 0;
    if (this.maxPerAddress > 0 && open >= this.maxPerAddress) return 'connections per address';
    this.open.set(address, open + 1);
    return null;
  }

  release(address: string): void {
    const open = (this.open.get(address) ?? 1) - 1;
    if (open <= 0) this.open.delete(address);
    else this.open.set(address, open);
  }
}
