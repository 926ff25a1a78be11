/** The SDK's small parts on their own: backoff, heartbeat timing, ids, emitter, request table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff';
import { Emitter } from './emitter';
import { JmqtError } from './errors';
import { heartbeatTiming } from './heartbeat';
import { createIdGenerator } from './ids';
import { RequestTable } from './requests';

test('backoff doubles up to the cap; jitter takes off at most its share', () => {
  const none = { jitter: 0 };
  assert.deepEqual([0, 1, 2, 5, 9].map((n) => backoffDelay(n, none)), [1000, 2000, 4000, 30_000, 30_000]);
  assert.equal(backoffDelay(1, {}, () => 0.999), 1001);
  assert.equal(backoffDelay(1, {}, () => 0), 2000);
  for (let i = 0; i < 100; i++) {
    const delay = backoffDelay(3, { initialDelayMs: 100, maxDelayMs: 500 });
    assert.ok(delay >= 250 && delay <= 500, String(delay));
  }
});

test('heartbeat: hb every max(1, ts - 2) s, dead after ts s; default ts 15', () => {
  assert.deepEqual(heartbeatTiming(15), { intervalMs: 13_000, timeoutMs: 15_000 });
  assert.deepEqual(heartbeatTiming(2), { intervalMs: 1000, timeoutMs: 2000 });
  assert.deepEqual(heartbeatTiming(undefined), heartbeatTiming(15));
  assert.deepEqual(heartbeatTiming(0), heartbeatTiming(15));
});

test('pub ids are unique per generator and across generators', () => {
  const a = createIdGenerator();
  const b = createIdGenerator();
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) ids.add(a());
  for (let i = 0; i < 10_000; i++) ids.add(b());
  assert.equal(ids.size, 20_000);
  assert.match(a(), /^[0-9a-f]{12}-[0-9a-z]+$/);
  assert.equal(createIdGenerator('p')(), 'p-1');
});

class Probe extends Emitter<{ tick: number }> {
  readonly errors: unknown[] = [];
  fire(n: number) {
    this.emit('tick', n);
  }
  protected override onListenerError(error: unknown): void {
    this.errors.push(error);
  }
}

test('emitter: on/off/once, and a throwing listener does not stop the others', () => {
  const probe = new Probe();
  const seen: string[] = [];
  const off = probe.on('tick', (n) => seen.push(`on${n}`));
  probe.once('tick', (n) => seen.push(`once${n}`));
  probe.on('tick', () => {
    throw new Error('listener bug');
  });
  probe.on('tick', (n) => seen.push(`last${n}`));
  probe.fire(1);
  off();
  probe.fire(2);
  assert.deepEqual(seen, ['on1', 'once1', 'last1', 'last2']);
  assert.equal((probe.errors as Error[]).map((e) => e.message).join(), 'listener bug,listener bug');
});

test('request table: ordered keys keep a timed-out place, unique keys do not', async () => {
  const table = new RequestTable(20);
  const lost = table.wait('subAck:a', true);
  const gone = table.wait('pubAck:1', false);
  await assert.rejects(lost, (e: JmqtError) => e.code === 'timeout');
  await assert.rejects(gone, (e: JmqtError) => e.code === 'timeout');
  assert.equal(table.size, 0);
  const next = table.wait('subAck:a', true);
  assert.equal(table.answer('subAck:a', 'late'), true, 'swallowed by the expired place');
  assert.equal(table.answer('pubAck:1', 'late'), false);
  assert.equal(table.answer('subAck:a', 'mine'), true);
  assert.equal(await next, 'mine');
  const pending = table.wait('authAck', true);
  table.rejectAll(JmqtError.network('gone'));
  await assert.rejects(pending, (e: JmqtError) => e.status === 9);
});
