/** Specs of RateSeries and the chart helpers (axis maximum, compact numbers, polyline points). */
import { compactNumber, niceCeiling, RateSeries } from './rate-series';
import { polylinePoints } from './rate-chart';

describe('RateSeries', () => {
  it('turns counter samples into rates per second', () => {
    const series = new RateSeries(3);
    series.sample(0, 0);
    expect(series.points()).toEqual([]);
    series.sample(10, 1000);
    series.sample(30, 2000);
    series.sample(30, 4000);
    expect(series.points()).toEqual([10, 20, 0]);
    series.sample(130, 5000);
    expect(series.points()).toEqual([20, 0, 100]);
  });

  it('treats a counter that went down as a restart', () => {
    const series = new RateSeries();
    series.sample(500, 0);
    series.sample(5, 1000);
    expect(series.points()).toEqual([5]);
  });
});

describe('chart helpers', () => {
  it('niceCeiling rounds up to 1, 2 or 5 × 10^k', () => {
    expect([0, 0.4, 1, 1.2, 3, 7, 12, 250, 999, 1001].map(niceCeiling)).toEqual([1, 1, 1, 2, 5, 10, 20, 500, 1000, 2000]);
  });

  it('compactNumber abbreviates', () => {
    expect([0, 7, 0.5, 1234, 2000, 56_000, 2_500_000].map(compactNumber)).toEqual(['0', '7', '0.5', '1.2k', '2k', '56k', '2.5M']);
  });

  it('polylinePoints right-aligns the samples on the slots', () => {
    expect(polylinePoints([0, 10], 3, 10, 100, 50)).toBe('50,50 100,0');
    expect(polylinePoints([20], 2, 10, 100, 50)).toBe('100,0');
  });
});
