/**
 * Admission of new connections, before a single byte of them is parsed: how
 * many are open on all ports together, how many per remote address, and how
 * many one address opened in the current second, so one flapping client, a
 * reconnect storm or a flood cannot take every socket (file descriptor) of
 * the broker. Every socket of every port counts, HTTP ones included.
 */
import { readFileSync } from 'node:fs';

export type Refusal = 'connections' | 'connections per address' | 'connection rate per address';

/** File descriptors kept back from MAX_CONNECTIONS = 0 for storage, logs and listeners. */
const RESERVED_DESCRIPTORS = 512;

/** The soft open-file limit of this process, or 0 when the system does not say. */
function openFileLimit(): number {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** MAX_CONNECTIONS as configured, or derived from the open-file limit when 0 (0 again when unknown: no limit). */
export function connectionCap(configured: number): number {
  if (configured > 0) return configured;
  const limit = openFileLimit();
  return limit > RESERVED_DESCRIPTORS * 2 ? limit - RESERVED_DESCRIPTORS : 0;
}

export class ConnectionGuard {
  private readonly open = new Map<string, number>();
  private readonly attempts = new Map<string, number>();
  private second = 0;
  private total = 0;

  constructor(
    /** All addresses together; 0: no limit. */
    private readonly maxTotal: number,
    /** 0: no limit. */
    private readonly maxPerAddress: number,
    /** Per second; 0: no limit. */
    private readonly ratePerAddress: number,
  ) {}

  get openConnections(): number {
    return this.total;
  }

  /** Answers why a new connection from `address` is refused, or null and counts it (release() it when it closes). */
  admit(address: string, now = Date.now()): Refusal | null {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.attempts.clear();
    }
    const attempts = (this.attempts.get(address) ?? 0) + 1;
    this.attempts.set(address, attempts);
    if (this.ratePerAddress > 0 && attempts > this.ratePerAddress) return 'connection rate per address';
    if (this.maxTotal > 0 && this.total >= this.maxTotal) return 'connections';
    const open = this.open.get(address) ?? 0;
    if (this.maxPerAddress > 0 && open >= this.maxPerAddress) return 'connections per address';
    this.open.set(address, open + 1);
    this.total++;
    return null;
  }

  release(address: string): void {
    const open = this.open.get(address);
    if (open === undefined) return;
    this.total--;
    if (open <= 1) this.open.delete(address);
    else this.open.set(address, open - 1);
  }
}
