/** Specs of ageLabel: seconds, minutes and hours since a time. */
import { ageLabel } from './clock';

describe('ageLabel', () => {
  it('says how long ago, in s, min or h', () => {
    expect(ageLabel(null, 1000)).toBe('—');
    expect(ageLabel(10_000, 13_400)).toBe('3 s');
    expect(ageLabel(0, 119_000)).toBe('119 s');
    expect(ageLabel(0, 30 * 60_000)).toBe('30 min');
    expect(ageLabel(0, 5 * 3_600_000)).toBe('5 h');
    expect(ageLabel(2000, 1000)).toBe('0 s');
  });
});
