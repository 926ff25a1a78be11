/** Specs of LogStore: numbering, the capacity bound, batched version changes, and rewriting a line. */
import { LOG_CAPACITY, LogStore } from './log-store';

describe('LogStore', () => {
  it('numbers and timestamps lines', () => {
    let now = 1000;
    const store = new LogStore(10, 0, () => now++);
    const first = store.add({ kind: 'info', text: 'a' });
    const second = store.add({ kind: 'ok', text: 'b' });
    expect([first.seq, second.seq]).toEqual([1, 2]);
    expect([first.at, second.at]).toEqual([1000, 1001]);
    expect(store.snapshot().map((line) => line.text)).toEqual(['a', 'b']);
  });

  it('is bounded by its capacity, 5,000 by default', () => {
    const store = new LogStore(undefined, 0);
    expect(LOG_CAPACITY).toBe(5000);
    for (let i = 0; i < 12_000; i++) store.add({ kind: 'message', text: `line ${i}` });
    expect(store.snapshot().length).toBe(5000);
    expect(store.dropped).toBe(7000);
    expect(store.snapshot()[0].text).toBe('line 7000');
    expect(store.lastSeq).toBe(12_000);
  });

  it('moves its version once per flush interval however many lines arrive', async () => {
    const store = new LogStore(100, 20);
    const start = store.version();
    for (let i = 0; i < 1000; i++) store.add({ kind: 'message', text: String(i) });
    expect(store.version()).toBe(start);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.version()).toBe(start + 1);
    store.dispose();
  });

  it('clear() empties it and flushes at once', () => {
    const store = new LogStore(100, 1000);
    store.add({ kind: 'info', text: 'x' });
    const before = store.version();
    store.clear();
    expect(store.snapshot().length).toBe(0);
    expect(store.version()).toBe(before + 1);
    store.dispose();
  });

  it('update() rewrites one line in place, keeping its number and time, as a new object', () => {
    let now = 1000;
    const store = new LogStore(10, 0, () => now++);
    store.add({ kind: 'info', text: 'a' });
    const sent = store.add({ kind: 'info', text: 'sent', channel: 'update' });
    store.add({ kind: 'info', text: 'c' });
    const before = store.snapshot();
    const version = store.version();
    expect(store.update(sent.seq, { kind: 'error', text: 'refused', channel: 'update' })).toBeTrue();
    const after = store.snapshot();
    expect(after.map((line) => line.text)).toEqual(['a', 'refused', 'c']);
    expect(after[1]).toEqual({ kind: 'error', text: 'refused', channel: 'update', seq: sent.seq, at: sent.at });
    expect(before[1].text).toBe('sent');
    expect(store.version()).toBe(version + 1);
    expect(store.lastSeq).toBe(3);
  });

  it('update() answers false for a line that was dropped or cleared', () => {
    const store = new LogStore(3, 0);
    const first = store.add({ kind: 'info', text: 'first' });
    for (let i = 0; i < 3; i++) store.add({ kind: 'info', text: String(i) });
    expect(store.update(first.seq, { kind: 'error', text: 'x' })).toBeFalse();
    expect(store.update(99, { kind: 'error', text: 'x' })).toBeFalse();
    const kept = store.snapshot()[0];
    expect(store.update(kept.seq, { kind: 'ok', text: 'kept' })).toBeTrue();
    store.clear();
    expect(store.update(kept.seq, { kind: 'error', text: 'x' })).toBeFalse();
    const next = store.add({ kind: 'info', text: 'after clear' });
    expect(store.update(next.seq, { kind: 'ok', text: 'rewritten' })).toBeTrue();
    expect(store.snapshot().map((line) => line.text)).toEqual(['rewritten']);
  });
});
