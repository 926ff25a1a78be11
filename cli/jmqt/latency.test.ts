// The bench latency recorder: exact min, max and mean, percentiles within
// about 1 % of the true value, in bounded memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyRecorder, latencyText } from './latency';

describe('LatencyRecorder', () => {
  it('without samples: zeros, and `-` as text', () => {
    const recorder = new LatencyRecorder();
    assert.deepEqual(recorder.summary(), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 });
    assert.equal(latencyText(recorder.summary()), '-');
  });

  it('percentiles of 1..10000 ms within 1 %, min, max and mean exact', () => {
    const recorder = new LatencyRecorder();
    for (let ms = 10_000; ms >= 1; ms--) recorder.record(ms);
    const summary = recorder.summary();
    assert.equal(summary.count, 10_000);
    assert.equal(summary.min, 1);
    assert.equal(summary.max, 10_000);
    assert.equal(summary.mean, 5000.5);
    for (const [p, value] of [[summary.p50, 5000], [summary.p90, 9000], [summary.p95, 9500], [summary.p99, 9900]] as const) {
      assert.ok(Math.abs(p - value) / value <= 0.011, `${p} vs ${value}`);
    }
  });

  it('sub-millisecond and zero samples; a percentile never leaves [min, max]', () => {
    const recorder = new LatencyRecorder();
    for (const ms of [0, 0.0004, 0.25, 0.25, 0.3]) recorder.record(ms);
    assert.equal(recorder.percentile(0), 0);
    assert.ok(Math.abs(recorder.percentile(0.6) - 0.25) < 0.003);
    assert.equal(recorder.percentile(1), 0.3);
    assert.match(latencyText(recorder.summary()), /^min 0\.00, p50 0\.2\d, .*max 0\.30, mean 0\.16$/);
  });
});
