/** Specs of RingBuffer: oldest first, bounded, counts what it dropped. */
import { RingBuffer } from './ring-buffer';

describe('RingBuffer', () => {
  it('keeps items oldest first below capacity', () => {
    const ring = new RingBuffer<number>(3);
    ring.push(1);
    ring.push(2);
    expect(ring.toArray()).toEqual([1, 2]);
    expect(ring.dropped).toBe(0);
  });

  it('overwrites the oldest past capacity and never grows', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 10; i++) ring.push(i);
    expect(ring.toArray()).toEqual([8, 9, 10]);
    expect(ring.dropped).toBe(7);
  });

  it('stays bounded at 5,000 after 100,000 pushes', () => {
    const ring = new RingBuffer<number>(5000);
    for (let i = 0; i < 100_000; i++) ring.push(i);
    const items = ring.toArray();
    expect(items.length).toBe(5000);
    expect(items[0]).toBe(95_000);
    expect(items[4999]).toBe(99_999);
  });

  it('clear() empties it and resets the counters', () => {
    const ring = new RingBuffer<string>(2);
    ring.push('a');
    ring.push('b');
    ring.push('c');
    ring.clear();
    expect(ring.toArray()).toEqual([]);
    expect(ring.dropped).toBe(0);
    ring.push('d');
    expect(ring.toArray()).toEqual(['d']);
    expect(ring.dropped).toBe(0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrowError(RangeError);
    expect(() => new RingBuffer(1.5)).toThrowError(RangeError);
  });

  it('reads and replaces by place, oldest = 0, also after wrapping', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.length).toBe(3);
    expect([ring.at(0), ring.at(2), ring.at(3), ring.at(-1)]).toEqual([3, 5, undefined, undefined]);
    expect(ring.set(1, 40)).toBeTrue();
    expect(ring.set(3, 0)).toBeFalse();
    expect(ring.toArray()).toEqual([3, 40, 5]);
  });
});
