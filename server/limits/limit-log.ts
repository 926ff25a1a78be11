/**
 * Protocol 11.11: every limit hit is logged at WRN, at most once a second
 * per configuration key; the hits not logged meanwhile are named in the next
 * line, so a flood writes one line a second.
 */
import type { Logger } from '../log';

export class LimitLog {
  /** Per key: when it was last logged and how many hits went unlogged since. */
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly log: Logger) {}

  write(key: string, detail: string, now = Date.now()): void {
    const last = this.last.get(key);
    if (last && now - last.at < 1000) {
      last.suppressed++;
      return;
    }
    const more = last && last.suppressed > 0 ? ` (and ${last.suppressed} more hits not logged)` : '';
    this.last.set(key, { at: now, suppressed: 0 });
    this.log.warn(`limit ${key} hit: ${detail}${more}`);
  }
}
