/** Round-trip times of one kind of request: count, percentiles and maximum, ms. */
export class Latency {
  private readonly samples: number[] = [];
  max = 0;
  count = 0;

  add(ms: number): void {
    this.count++;
    if (ms > this.max) this.max = ms;
    // Bounded: a long run keeps every other sample once it holds many.
    if (this.samples.length < 100_000) this.samples.push(ms);
    else this.samples[this.count % 100_000] = ms;
  }

  percentile(fraction: number): number {
    if (this.samples.length === 0) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
  }

  summary(): LatencySummary {
    return { count: this.count, p50: round(this.percentile(0.5)), p99: round(this.percentile(0.99)), max: round(this.max) };
  }
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
