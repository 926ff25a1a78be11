/**
 * A broker-wide bound on authentication work in flight (protocol 13.9): scrypt
 * verifications in the password mode, calls to the service in the http mode.
 * Past AUTH_MAX_PENDING an `auth` is answered 5 "busy" at once, and counted
 * as a limit hit, rather than queue work (and memory) without end.
 */
import { Status } from '../../shared/status';
import type { AuthResult } from '../hooks';

export const BUSY: AuthResult = { status: Status.SERVER_ERROR, message: 'busy' };

export class PendingBound {
  private count = 0;

  constructor(
    private readonly max: number,
    /** Told of every refusal (the broker counts it under AUTH_MAX_PENDING). */
    private readonly refused: (detail: string) => void,
  ) {}

  get pending(): number {
    return this.count;
  }

  /**
   * Runs `work` when under the bound, else answers BUSY. `what` names the
   * work for the count's log line (no client text in it).
   */
  async run(what: string, work: () => Promise<AuthResult>): Promise<AuthResult> {
    if (this.count >= this.max) {
      this.refused(`${this.max} ${what} already in flight`);
      return BUSY;
    }
    this.count++;
    try {
      return await work();
    } finally {
      this.count--;
    }
  }
}
