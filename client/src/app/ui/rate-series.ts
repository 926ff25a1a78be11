/**
 * Turns a growing counter (pushes received, broker messages in / out) into
 * a rate per second, keeping the last `capacity` samples for a chart.
 */
import { signal } from '@angular/core';

export class RateSeries {
  private readonly values = signal<readonly number[]>([]);
  private last: { count: number; at: number } | null = null;

  /** Rates per second, oldest first, at most `capacity`. */
  readonly points = this.values.asReadonly();

  constructor(private readonly capacity = 60) {}

  /** Records the counter's value at time `at` (ms); the first call only sets the baseline. */
  sample(count: number, at: number): void {
    const last = this.last;
    this.last = { count, at };
    if (!last || at <= last.at) return;
    // A counter that went down was reset (broker restart): count from zero again.
    const delta = count >= last.count ? count - last.count : count;
    const rate = delta / ((at - last.at) / 1000);
    this.values.update((values) => [...values.slice(Math.max(0, values.length - this.capacity + 1)), rate]);
  }
}

/** The smallest 1, 2 or 5 × 10^k that is at least `value` (at least 1): a readable axis maximum. */
export function niceCeiling(value: number): number {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** `1234.5` → `1.2k`, `12` → `12`, `0.5` → `0.5`. */
export function compactNumber(value: number): string {
  const short = (scaled: number) => (scaled >= 10 ? scaled.toFixed(0) : scaled.toFixed(1).replace(/\.0$/, ''));
  if (value >= 1_000_000) return `${short(value / 1_000_000)}M`;
  if (value >= 1000) return `${short(value / 1000)}k`;
  if (value > 0 && value < 10 && !Number.isInteger(value)) return value.toFixed(1);
  return String(Math.round(value));
}
