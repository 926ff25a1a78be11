/**
 * Latencies of a bench run in bounded memory: a log-scale histogram with
 * buckets 1 % apart from 1 µs up, so percentiles are within about 1 % of the
 * true value however many samples there are; min, max and mean are exact.
 */
const SMALLEST_MS = 0.001;
const STEP = Math.log(1.01);

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export class LatencyRecorder {
  private readonly buckets = new Map<number, number>();
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const value = Math.max(0, ms);
    this.count += 1;
    this.sum += value;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    const bucket = value <= SMALLEST_MS ? 0 : Math.ceil(Math.log(value / SMALLEST_MS) / STEP);
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
  }

  get size(): number {
    return this.count;
  }

  /** The value under which a share `p` (0 to 1) of the samples lie; 0 without samples. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * this.count));
    // The extremes are known exactly.
    if (rank === 1) return this.min;
    if (rank >= this.count) return this.max;
    let seen = 0;
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(bucket)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, SMALLEST_MS * Math.exp(bucket * STEP)));
    }
    return this.max;
  }

  summary(): LatencySummary {
    const empty = this.count === 0;
    return {
      count: this.count,
      min: empty ? 0 : this.min,
      mean: empty ? 0 : this.sum / this.count,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p95: this.percentile(0.95),
      p99: this.percentile(0.99),
      max: this.max,
    };
  }
}

/** `min 0.21 p50 0.40 … max 12.3` in ms, or `-` without samples. */
export function latencyText(summary: LatencySummary): string {
  if (summary.count === 0) return '-';
  const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
  return `min ${ms(summary.min)}, p50 ${ms(summary.p50)}, p90 ${ms(summary.p90)}, p95 ${ms(summary.p95)}, p99 ${ms(summary.p99)}, max ${ms(summary.max)}, mean ${ms(summary.mean)}`;
}
