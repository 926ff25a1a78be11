// The Storage contract: one suite of behaviour every backend runs
// (sqlite.test.ts, mysql.test.ts), see storageContract below.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { QueuedMessage, RetainedMessage, Storage, SubscriptionRecord } from './storage';

/** How the contract makes, reopens and removes one backend. */
export interface ContractBackend {
  /** A fresh, empty, not yet opened backend. */
  create(): Promise<Storage>;
  /** Another, not yet opened, instance on the same file or database as `s`. */
  reopen(s: Storage): Promise<Storage>;
  /** Drops the file or database of `s`, after it is closed. */
  destroy?(s: Storage): Promise<void>;
}

/**
 * The one suite every Storage backend passes (ARCHITECTURE rule 7). The suite
 * opens each created backend before a test and closes it after. Nothing here
 * is specific to one backend.
 */
export function storageContract(name: string, backend: ContractBackend): void {
  describe(`Storage contract: ${name}`, () => {
    let s: Storage;

    beforeEach(async () => {
      s = await backend.create();
      await s.open();
    });

    afterEach(async () => {
      await s.close();
      await backend.destroy?.(s);
    });

    /** Runs `check` on a second instance of the same store, opened after `s` was closed. */
    async function afterReopen(check: (again: Storage) => Promise<void>): Promise<void> {
      await s.close();
      const again = await backend.reopen(s);
      await again.open();
      try {
        await check(again);
      } finally {
        await again.close();
      }
    }

    const copy = (clientId: string, id: string, channel = 'news', data = '{"n":1}', sender = 'pub'): QueuedMessage => ({
      clientId,
      id,
      channel,
      data,
      sender,
    });
    const ids = async (clientId: string, from: Storage = s) => (await from.queuedFor(clientId)).map((m) => m.id);
    const bySubKey = (a: SubscriptionRecord, b: SubscriptionRecord) =>
      (a.clientId + '\n' + a.channel < b.clientId + '\n' + b.channel ? -1 : 1);
    const byChannel = (a: RetainedMessage, b: RetainedMessage) => (a.channel < b.channel ? -1 : 1);
    const sorted = (xs: string[]) => [...xs].sort();

    it('starts empty', async () => {
      assert.deepEqual(await s.stats(), { subscriptions: 0, retained: 0, queued: 0 });
      assert.deepEqual(await s.allSubscriptions(), []);
      assert.deepEqual(await s.subscriptionsOf('a'), []);
      assert.deepEqual(await s.allRetained(), []);
      assert.deepEqual(await s.queuedFor('a'), []);
      assert.equal((await s.queuedCounts()).size, 0);
    });

    describe('subscriptions', () => {
      it('subscribe adds, and subscriptionsOf lists only that client', async () => {
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
        await s.subscribe({ clientId: 'a', channel: 'chat', persistent: false });
        await s.subscribe({ clientId: 'b', channel: 'news', persistent: false });
        assert.deepEqual((await s.subscriptionsOf('a')).sort(bySubKey), [
          { clientId: 'a', channel: 'chat', persistent: false },
          { clientId: 'a', channel: 'news', persistent: true },
        ]);
        assert.deepEqual(await s.subscriptionsOf('b'), [{ clientId: 'b', channel: 'news', persistent: false }]);
        assert.deepEqual(await s.subscriptionsOf('c'), []);
      });

      it('subscribe again upserts the persistent flag, both ways, without a duplicate', async () => {
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: false });
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
        assert.deepEqual(await s.subscriptionsOf('a'), [{ clientId: 'a', channel: 'news', persistent: true }]);
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: false });
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: false });
        assert.deepEqual(await s.subscriptionsOf('a'), [{ clientId: 'a', channel: 'news', persistent: false }]);
        assert.equal((await s.stats()).subscriptions, 1);
      });

      it('allSubscriptions lists every client', async () => {
        const all: SubscriptionRecord[] = [
          { clientId: 'a', channel: '#a', persistent: true },
          { clientId: 'a', channel: 'news', persistent: false },
          { clientId: 'b', channel: 'news', persistent: true },
          { clientId: 'c', channel: 'x/y', persistent: false },
        ];
        for (const r of all) await s.subscribe(r);
        assert.deepEqual((await s.allSubscriptions()).sort(bySubKey), all);
      });

      it('keys are exact: case and accents make distinct clients and channels', async () => {
        await s.subscribe({ clientId: 'alice', channel: 'cafe', persistent: true });
        await s.subscribe({ clientId: 'Alice', channel: 'café', persistent: false });
        await s.subscribe({ clientId: 'alice', channel: 'Cafe', persistent: false });
        assert.equal((await s.allSubscriptions()).length, 3);
        assert.deepEqual(await s.subscriptionsOf('Alice'), [{ clientId: 'Alice', channel: 'café', persistent: false }]);
        await s.enqueue([copy('alice', 'm1', 'cafe'), copy('Alice', 'M1', 'café')]);
        assert.deepEqual(await ids('alice'), ['m1']);
        assert.equal(await s.acknowledge('alice', 'M1'), false);
        await s.retain({ channel: 'cafe', data: '1', sender: '' });
        await s.retain({ channel: 'Café', data: '2', sender: '' });
        assert.deepEqual(await s.retainedFor(['café', 'Cafe']), []);
      });

      it('unsubscribe answers whether the subscription existed', async () => {
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
        await s.subscribe({ clientId: 'b', channel: 'chat', persistent: true });
        assert.equal(await s.unsubscribe('a', 'chat'), false);
        assert.equal(await s.unsubscribe('a', 'news'), true);
        assert.equal(await s.unsubscribe('a', 'news'), false);
        assert.equal(await s.unsubscribe('nobody', 'news'), false);
        assert.deepEqual(await s.subscriptionsOf('a'), []);
        assert.deepEqual(await s.subscriptionsOf('b'), [{ clientId: 'b', channel: 'chat', persistent: true }]);
      });

      it("unsubscribe drops that client's queued copies on that channel only", async () => {
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
        await s.subscribe({ clientId: 'a', channel: 'chat', persistent: true });
        await s.subscribe({ clientId: 'b', channel: 'news', persistent: true });
        await s.enqueue([copy('a', '1', 'news'), copy('a', '2', 'chat'), copy('b', '1', 'news'), copy('a', '3', 'news')]);
        assert.equal(await s.unsubscribe('a', 'news'), true);
        assert.deepEqual(await ids('a'), ['2']);
        assert.deepEqual(await ids('b'), ['1']);
      });

      it('removeTemporary removes temporary subscriptions and their queued copies, answers their channels', async () => {
        await s.subscribe({ clientId: 'a', channel: '#a', persistent: true });
        await s.subscribe({ clientId: 'a', channel: 'keep', persistent: true });
        await s.subscribe({ clientId: 'a', channel: 't1', persistent: false });
        await s.subscribe({ clientId: 'a', channel: 't2', persistent: false });
        await s.subscribe({ clientId: 'b', channel: 't1', persistent: false });
        await s.enqueue([copy('a', '1', 't1'), copy('a', '2', 'keep'), copy('a', '3', 't2'), copy('a', '4', '#a')]);
        await s.enqueue([copy('b', '1', 't1')]);
        assert.deepEqual(sorted(await s.removeTemporary('a')), ['t1', 't2']);
        assert.deepEqual((await s.subscriptionsOf('a')).sort(bySubKey), [
          { clientId: 'a', channel: '#a', persistent: true },
          { clientId: 'a', channel: 'keep', persistent: true },
        ]);
        assert.deepEqual(await ids('a'), ['2', '4']);
        assert.deepEqual(await s.subscriptionsOf('b'), [{ clientId: 'b', channel: 't1', persistent: false }]);
        assert.deepEqual(await ids('b'), ['1']);
        assert.deepEqual(await s.removeTemporary('a'), []);
        assert.deepEqual(await s.removeTemporary('nobody'), []);
      });

      it('removeAllTemporary removes every temporary subscription and its queued copies', async () => {
        assert.equal(await s.removeAllTemporary(), 0);
        await s.subscribe({ clientId: 'a', channel: 'keep', persistent: true });
        await s.subscribe({ clientId: 'a', channel: 'temp', persistent: false });
        await s.subscribe({ clientId: 'b', channel: 'temp', persistent: false });
        await s.subscribe({ clientId: 'c', channel: 'temp', persistent: true });
        await s.enqueue([copy('a', '1', 'temp'), copy('a', '2', 'keep'), copy('b', '1', 'temp'), copy('c', '1', 'temp')]);
        assert.equal(await s.removeAllTemporary(), 2);
        assert.deepEqual((await s.allSubscriptions()).sort(bySubKey), [
          { clientId: 'a', channel: 'keep', persistent: true },
          { clientId: 'c', channel: 'temp', persistent: true },
        ]);
        assert.deepEqual(await ids('a'), ['2']);
        assert.deepEqual(await ids('b'), []);
        assert.deepEqual(await ids('c'), ['1']);
        assert.equal(await s.removeAllTemporary(), 0);
      });
    });

    describe('QoS 1 queue', () => {
      it('queuedPage reads a client queue in pages, oldest first, from a position', async () => {
        await s.enqueue([copy('a', 'p1', 'news', '1', ''), copy('b', 'q1', 'news', '2', ''), copy('a', 'p2', 'news', '3', ''), copy('a', 'p3', 'chat', '4', 'x')]);
        const first = await s.queuedPage('a', 0, 2);
        assert.deepEqual(first.map((m) => [m.id, m.clientId, m.channel, m.data]), [['p1', 'a', 'news', '1'], ['p2', 'a', 'news', '3']]);
        assert.ok(first[0]!.seq < first[1]!.seq);
        const rest = await s.queuedPage('a', first[1]!.seq, 2);
        assert.deepEqual(rest.map((m) => [m.id, m.sender]), [['p3', 'x']]);
        assert.deepEqual(await s.queuedPage('a', rest[0]!.seq, 2), []);
        assert.deepEqual(await s.queuedPage('c', 0, 10), []);
      });

      it('queuedFor answers every field of that client only', async () => {
        await s.enqueue([copy('a', 'x1', 'news', '{"t":"hi"}', 'p'), copy('b', 'y1', 'chat', '[1,2]', ''), copy('a', 'x2', 'chat', 'null', '')]);
        assert.deepEqual(await s.queuedFor('a'), [copy('a', 'x1', 'news', '{"t":"hi"}', 'p'), copy('a', 'x2', 'chat', 'null', '')]);
        assert.deepEqual(await s.queuedFor('b'), [copy('b', 'y1', 'chat', '[1,2]', '')]);
        assert.deepEqual(await s.queuedFor('c'), []);
      });

      it('keeps insertion order across awaited batches, whatever the ids', async () => {
        await s.enqueue([copy('a', 'z'), copy('a', 'b')]);
        await s.enqueue([copy('a', '10')]);
        await s.enqueue([copy('a', '9'), copy('a', 'a'), copy('a', 'Z')]);
        assert.deepEqual(await ids('a'), ['z', 'b', '10', '9', 'a', 'Z']);
      });

      it('concurrent enqueues in one tick all resolve, in call order', async () => {
        const calls: Promise<void>[] = [];
        const expected: string[] = [];
        for (let i = 0; i < 50; i++) {
          const batch = [copy('a', `c${i}-0`), copy('a', `c${i}-1`), copy('b', `c${i}`)];
          expected.push(`c${i}-0`, `c${i}-1`);
          calls.push(s.enqueue(batch));
        }
        calls.push(s.enqueue([]));
        await Promise.all(calls);
        assert.deepEqual(await ids('a'), expected);
        assert.equal((await s.queuedFor('b')).length, 50);
        assert.equal((await s.stats()).queued, 150);
      });

      it('the same id is allowed for different clients; a repeated (client, id) keeps one copy', async () => {
        await s.enqueue([copy('a', 'same', 'news', '1'), copy('b', 'same', 'news', '1')]);
        await s.enqueue([copy('a', 'same', 'news', '1')]);
        assert.deepEqual(await ids('a'), ['same']);
        assert.deepEqual(await ids('b'), ['same']);
        assert.equal((await s.stats()).queued, 2);
      });

      it("acknowledge deletes only that client's copy and answers whether it was there", async () => {
        await s.enqueue([copy('a', '1'), copy('a', '2'), copy('a', '3'), copy('b', '2')]);
        assert.equal(await s.acknowledge('a', '2'), true);
        assert.equal(await s.acknowledge('a', '2'), false);
        assert.equal(await s.acknowledge('a', 'unknown'), false);
        assert.equal(await s.acknowledge('nobody', '1'), false);
        assert.deepEqual(await ids('a'), ['1', '3']);
        assert.deepEqual(await ids('b'), ['2']);
        await s.enqueue([copy('a', '4')]);
        assert.deepEqual(await ids('a'), ['1', '3', '4']);
      });

      it('acknowledge applies after an enqueue made before it, even in the same tick', async () => {
        const [, found, missing] = await Promise.all([
          s.enqueue([copy('a', '1'), copy('a', '2')]),
          s.acknowledge('a', '1'),
          s.acknowledge('a', '3'),
          s.enqueue([copy('a', '3')]),
        ]);
        assert.equal(found, true);
        assert.equal(missing, false);
        assert.deepEqual(await ids('a'), ['2', '3']);
      });

      it('queuedCounts counts copies per client; clients with none are absent', async () => {
        await s.enqueue([copy('a', '1'), copy('a', '2'), copy('b', '1'), copy('c', '1')]);
        await s.acknowledge('c', '1');
        assert.deepEqual(await s.queuedCounts(), new Map([['a', 2], ['b', 1]]));
      });

      it('queuedCount counts one client\'s copies', async () => {
        await s.enqueue([copy('a', '1'), copy('a', '2'), copy('b', '1')]);
        assert.equal(await s.queuedCount('a'), 2);
        assert.equal(await s.queuedCount('b'), 1);
        assert.equal(await s.queuedCount('nobody'), 0);
      });

      it('dropOldest deletes only that client\'s oldest copies', async () => {
        await s.enqueue([copy('a', '1'), copy('b', 'x'), copy('a', '2')]);
        await s.enqueue([copy('a', '3')]);
        assert.equal(await s.dropOldest('a', 2), 2);
        assert.deepEqual(await ids('a'), ['3']);
        assert.deepEqual(await ids('b'), ['x']);
        assert.equal(await s.dropOldest('a', 5), 1);
        assert.equal(await s.dropOldest('a', 0), 0);
        assert.deepEqual(await ids('a'), []);
      });
    });

    describe('retained', () => {
      it('retain keeps one message per channel, the latest, with its sender', async () => {
        await s.retain({ channel: 'news', data: '{"v":1}', sender: 'p1' });
        await s.retain({ channel: 'chat', data: '"x"', sender: '' });
        await s.retain({ channel: 'news', data: '{"v":2}', sender: 'p2' });
        assert.deepEqual((await s.allRetained()).sort(byChannel), [
          { channel: 'chat', data: '"x"', sender: '' },
          { channel: 'news', data: '{"v":2}', sender: 'p2' },
        ]);
      });

      it('clearRetained deletes the channel only; clearing a channel without one is fine', async () => {
        await s.retain({ channel: 'news', data: '1', sender: 'p' });
        await s.retain({ channel: 'chat', data: '2', sender: 'p' });
        await s.clearRetained('news');
        await s.clearRetained('news');
        await s.clearRetained('never');
        assert.deepEqual(await s.allRetained(), [{ channel: 'chat', data: '2', sender: 'p' }]);
        await s.retain({ channel: 'news', data: '3', sender: 'q' });
        assert.deepEqual(await s.retainedFor(['news']), [{ channel: 'news', data: '3', sender: 'q' }]);
      });

      it('retainedFor answers only the named channels that have one', async () => {
        await s.retain({ channel: 'a', data: '1', sender: 'p' });
        await s.retain({ channel: 'b', data: '2', sender: '' });
        await s.retain({ channel: 'c', data: '3', sender: 'p' });
        assert.deepEqual(await s.retainedFor([]), []);
        assert.deepEqual(await s.retainedFor(['none']), []);
        assert.deepEqual((await s.retainedFor(['c', 'none', 'a', 'a'])).sort(byChannel), [
          { channel: 'a', data: '1', sender: 'p' },
          { channel: 'c', data: '3', sender: 'p' },
        ]);
        const many = Array.from({ length: 1500 }, (_, i) => `ch${i}`).concat('b');
        assert.deepEqual(await s.retainedFor(many), [{ channel: 'b', data: '2', sender: '' }]);
      });
    });

    it('stats counts subscriptions, retained messages and queued copies as they change', async () => {
      await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
      await s.subscribe({ clientId: 'b', channel: 'news', persistent: false });
      await s.retain({ channel: 'news', data: '1', sender: '' });
      await s.enqueue([copy('a', '1'), copy('b', '1'), copy('b', '2')]);
      assert.deepEqual(await s.stats(), { subscriptions: 2, retained: 1, queued: 3 });
      await s.acknowledge('a', '1');
      await s.removeTemporary('b');
      await s.clearRetained('news');
      assert.deepEqual(await s.stats(), { subscriptions: 1, retained: 0, queued: 0 });
    });

    it('Unicode and 100 KiB JSON text round-trip exactly', async () => {
      const text = 'héllo wörld ñ — “quotes” 日本語 中文 한국어 עברית العربية 🎉👩‍👩‍👧‍👦 e\u0301 \u200b \\ " \' \t';
      const unicode = JSON.stringify({ text, nested: [text, { [text]: 1 }] });
      const unit = JSON.stringify({ k: 'x'.repeat(40), u: 'é日🎉' });
      const big = '[' + Array.from({ length: Math.ceil((100 * 1024) / unit.length) }, () => unit).join(',') + ']';
      assert.ok(big.length >= 100 * 1024);
      const client = 'clïent-🎉';
      const channel = 'chännel/日本/🎉';
      const sender = 'sénder-한';
      await s.subscribe({ clientId: client, channel, persistent: true });
      await s.enqueue([copy(client, 'id-é-1', channel, unicode, sender), copy(client, 'id-é-2', channel, big, '')]);
      await s.retain({ channel, data: big, sender });
      await s.retain({ channel: 'plain', data: unicode, sender: '' });
      assert.deepEqual(await s.subscriptionsOf(client), [{ clientId: client, channel, persistent: true }]);
      assert.deepEqual(await s.queuedFor(client), [
        copy(client, 'id-é-1', channel, unicode, sender),
        copy(client, 'id-é-2', channel, big, ''),
      ]);
      assert.deepEqual((await s.retainedFor([channel, 'plain'])).sort(byChannel), [
        { channel, data: big, sender },
        { channel: 'plain', data: unicode, sender: '' },
      ].sort(byChannel));
      assert.deepEqual(await s.queuedCounts(), new Map([[client, 2]]));
      assert.equal(await s.acknowledge(client, 'id-é-2'), true);
      assert.equal(await s.unsubscribe(client, channel), true);
      assert.deepEqual(await s.queuedFor(client), []);
    });

    describe('one batch per tick', () => {
      it('every write kind made in one tick applies in call order, each answering its own result', async () => {
        await s.subscribe({ clientId: 'a', channel: 'keep', persistent: true });
        await s.subscribe({ clientId: 'a', channel: 'temp', persistent: false });
        await s.enqueue([copy('a', '0', 'keep')]);
        const writes: Promise<unknown>[] = [
          s.subscribe({ clientId: 'b', channel: 'news', persistent: true }),
          s.enqueue([copy('b', '1'), copy('b', '2'), copy('b', '3'), copy('a', '1', 'temp')]),
          s.acknowledge('b', '1'),
          s.acknowledge('b', '1'),
          s.dropOldest('b', 1),
        ];
        const seen = s.queuedFor('b');
        writes.push(
          s.retain({ channel: 'news', data: '1', sender: 'p' }),
          s.retain({ channel: 'gone', data: '2', sender: '' }),
          s.retain({ channel: 'news', data: '3', sender: 'q' }),
          s.clearRetained('gone'),
          s.unsubscribe('b', 'news'),
          s.unsubscribe('b', 'news'),
          s.removeTemporary('a'),
          s.touchClients(['c'], 1000),
          s.expireClients(2000, 10),
          s.subscribe({ clientId: 'c', channel: 'x', persistent: false }),
          s.removeAllTemporary(),
        );
        assert.deepEqual(await Promise.all(writes), [
          undefined, undefined, true, false, 1,
          undefined, undefined, undefined, undefined, true, false, ['temp'],
          undefined, [{ clientId: 'c', subscriptions: 0, queued: 0 }], undefined, 1,
        ]);
        // A read in the middle sees the writes made before it, not those after.
        assert.deepEqual((await seen).map((m) => m.id), ['3']);
        assert.deepEqual(await s.allSubscriptions(), [{ clientId: 'a', channel: 'keep', persistent: true }]);
        assert.deepEqual(await ids('a'), ['0']);
        assert.deepEqual(await ids('b'), []);
        assert.deepEqual(await s.allRetained(), [{ channel: 'news', data: '3', sender: 'q' }]);
        // subscribe gave a, b and (again) c a last-seen time.
        assert.deepEqual((await s.expireClients(Date.now() + 60_000, 10)).sort((x, y) => (x.clientId < y.clientId ? -1 : 1)), [
          { clientId: 'a', subscriptions: 1, queued: 1 },
          { clientId: 'b', subscriptions: 0, queued: 0 },
          { clientId: 'c', subscriptions: 0, queued: 0 },
        ]);
      });

      it('a failing batch rejects every write kind in it and keeps none of it', async () => {
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
        await s.subscribe({ clientId: 'a', channel: 'temp', persistent: false });
        await s.enqueue([copy('a', '0')]);
        await s.retain({ channel: 'news', data: '1', sender: '' });
        await s.touchClients(['old'], 1000);
        const bad = { ...copy('a', 'bad'), data: { not: 'text' } as unknown as string };
        const results = await Promise.allSettled<unknown>([
          s.subscribe({ clientId: 'b', channel: 'news', persistent: true }),
          s.unsubscribe('a', 'news'),
          s.removeTemporary('a'),
          s.removeAllTemporary(),
          s.enqueue([copy('a', '1')]),
          s.acknowledge('a', '0'),
          s.dropOldest('a', 1),
          s.retain({ channel: 'x', data: '2', sender: '' }),
          s.clearRetained('news'),
          s.touchClients(['old'], Date.now()),
          s.expireClients(2000, 10),
          s.enqueue([bad]),
        ]);
        assert.deepEqual(results.map((r) => r.status), Array(12).fill('rejected'));
        assert.deepEqual((await s.allSubscriptions()).sort(bySubKey), [
          { clientId: 'a', channel: 'news', persistent: true },
          { clientId: 'a', channel: 'temp', persistent: false },
        ]);
        assert.deepEqual(await ids('a'), ['0']);
        assert.deepEqual(await s.allRetained(), [{ channel: 'news', data: '1', sender: '' }]);
        assert.deepEqual(await s.expireClients(2000, 10), [{ clientId: 'old', subscriptions: 0, queued: 0 }]);
      });

      it('thousands of retained pubs in one tick are one transaction, the last per channel kept', async () => {
        const flood = (extra: Promise<unknown>[]) => {
          const calls: Promise<unknown>[] = [];
          for (let i = 0; i < 3000; i++) calls.push(s.retain({ channel: `r${i % 1000}`, data: String(i), sender: 'p' }));
          return Promise.allSettled(calls.concat(extra));
        };
        await s.retain({ channel: 'keep', data: '0', sender: '' });
        // One bad op at the end fails all 3000: they were one transaction.
        const failed = await flood([s.enqueue([{ ...copy('a', 'bad'), data: { not: 'text' } as unknown as string }])]);
        assert.ok(failed.every((r) => r.status === 'rejected'));
        assert.deepEqual(await s.allRetained(), [{ channel: 'keep', data: '0', sender: '' }]);
        const written = await flood([]);
        assert.ok(written.every((r) => r.status === 'fulfilled'));
        assert.equal((await s.stats()).retained, 1001);
        assert.deepEqual((await s.retainedFor(['r0', 'r999'])).sort(byChannel), [
          { channel: 'r0', data: '2000', sender: 'p' },
          { channel: 'r999', data: '2999', sender: 'p' },
        ]);
      });
    });

    describe('client expiry', () => {
      const byClient = (a: { clientId: string }, b: { clientId: string }) => (a.clientId < b.clientId ? -1 : 1);

      it('expireClients removes clients last seen before the time, with their subscriptions and queued copies', async () => {
        await s.subscribe({ clientId: 'old', channel: 'news', persistent: true });
        await s.subscribe({ clientId: 'old', channel: 'temp', persistent: false });
        await s.subscribe({ clientId: 'new', channel: 'news', persistent: true });
        await s.enqueue([copy('old', '1'), copy('new', '1'), copy('old', '2', 'temp')]);
        await s.touchClients(['old'], 1000);
        await s.touchClients(['new', 'idle'], 5000);
        assert.deepEqual(await s.expireClients(3000, 10), [{ clientId: 'old', subscriptions: 2, queued: 2 }]);
        assert.deepEqual(await s.allSubscriptions(), [{ clientId: 'new', channel: 'news', persistent: true }]);
        assert.deepEqual(await ids('old'), []);
        assert.deepEqual(await ids('new'), ['1']);
        assert.deepEqual(await s.expireClients(3000, 10), []);
        assert.deepEqual((await s.expireClients(5001, 10)).sort(byClient), [
          { clientId: 'idle', subscriptions: 0, queued: 0 },
          { clientId: 'new', subscriptions: 1, queued: 1 },
        ]);
        assert.deepEqual(await s.stats(), { subscriptions: 0, retained: 0, queued: 0 });
      });

      it('a touch made before expireClients in the same tick keeps the client; one made after brings it back', async () => {
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
        await s.subscribe({ clientId: 'b', channel: 'news', persistent: true });
        await s.touchClients(['a', 'b'], 1000);
        const [, expired] = await Promise.all([s.touchClients(['a'], 5000), s.expireClients(3000, 10)]);
        assert.deepEqual(expired, [{ clientId: 'b', subscriptions: 1, queued: 0 }]);
        assert.deepEqual(await s.allSubscriptions(), [{ clientId: 'a', channel: 'news', persistent: true }]);
        const [gone] = await Promise.all([s.expireClients(6000, 10), s.touchClients(['a'], 7000)]);
        assert.deepEqual(gone, [{ clientId: 'a', subscriptions: 1, queued: 0 }]);
        assert.deepEqual(await s.expireClients(7000, 10), []);
        assert.deepEqual(await s.expireClients(7001, 10), [{ clientId: 'a', subscriptions: 0, queued: 0 }]);
      });

      it('expireClients takes at most limit clients, oldest first', async () => {
        const times: [string, number][] = [['e1', 1005], ['e2', 1001], ['e3', 1003], ['e4', 1002], ['e5', 1004], ['late', 2000]];
        for (const [clientId, at] of times) await s.touchClients([clientId], at);
        const expire = async (limit: number) => (await s.expireClients(2000, limit)).map((e) => e.clientId);
        assert.deepEqual(await expire(2), ['e2', 'e4']);
        assert.deepEqual(await expire(0), []);
        assert.deepEqual(await expire(2), ['e3', 'e5']);
        assert.deepEqual(await expire(2), ['e1']);
        assert.deepEqual(await expire(2), []);
        assert.deepEqual(await s.expireClients(2001, 5), [{ clientId: 'late', subscriptions: 0, queued: 0 }]);
      });

      it('subscribe records a client never seen as seen now, and keeps the time of one already seen', async () => {
        const before = Date.now();
        await s.subscribe({ clientId: 'fresh', channel: 'news', persistent: true });
        await s.touchClients(['seen'], 1000);
        await s.subscribe({ clientId: 'seen', channel: 'news', persistent: true });
        assert.deepEqual(await s.expireClients(before, 10), [{ clientId: 'seen', subscriptions: 1, queued: 0 }]);
        assert.deepEqual(await s.expireClients(Date.now() + 1, 10), [{ clientId: 'fresh', subscriptions: 1, queued: 0 }]);
      });

      it('last-seen times survive close and reopen', async () => {
        await s.subscribe({ clientId: 'old', channel: 'news', persistent: true });
        await s.touchClients(['old'], 1000);
        await s.touchClients(['new'], 5000);
        await afterReopen(async (again) => {
          assert.deepEqual(await again.expireClients(3000, 10), [{ clientId: 'old', subscriptions: 1, queued: 0 }]);
          assert.deepEqual(await again.expireClients(5001, 10), [{ clientId: 'new', subscriptions: 0, queued: 0 }]);
        });
      });
    });

    describe('durability', () => {
      it('data survives close and reopen, and new copies queue after the old ones', async () => {
        await s.subscribe({ clientId: 'a', channel: 'news', persistent: true });
        await s.subscribe({ clientId: 'a', channel: 'temp', persistent: false });
        await s.retain({ channel: 'news', data: '{"r":1}', sender: '' });
        await s.enqueue([copy('a', '2'), copy('a', '1')]);
        await afterReopen(async (again) => {
          assert.deepEqual((await again.subscriptionsOf('a')).sort(bySubKey), [
            { clientId: 'a', channel: 'news', persistent: true },
            { clientId: 'a', channel: 'temp', persistent: false },
          ]);
          assert.deepEqual(await again.allRetained(), [{ channel: 'news', data: '{"r":1}', sender: '' }]);
          assert.deepEqual(await again.queuedFor('a'), [copy('a', '2'), copy('a', '1')]);
          await again.enqueue([copy('a', '0')]);
          assert.deepEqual(await ids('a', again), ['2', '1', '0']);
        });
      });

      it('close writes the batch still pending and resolves its callers; later calls reject', async () => {
        const pending = s.enqueue([copy('a', '1'), copy('a', '2')]);
        const acked = s.acknowledge('a', '1');
        await s.close();
        await pending;
        assert.equal(await acked, true);
        await assert.rejects(s.enqueue([copy('a', '3')]), /not open/);
        await assert.rejects(s.acknowledge('a', '2'), /not open/);
        await assert.rejects(s.queuedFor('a'), /not open/);
        await afterReopen(async (again) => assert.deepEqual(await again.queuedFor('a'), [copy('a', '2')]));
      });

      it('a failing batch rejects every caller in it, keeps none of it, and the next batch works', async () => {
        await s.enqueue([copy('a', '0')]);
        const bad = { ...copy('a', 'bad'), data: { not: 'text' } as unknown as string };
        const results = await Promise.allSettled([s.enqueue([copy('a', '1')]), s.enqueue([bad]), s.acknowledge('a', '0')]);
        assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
        assert.deepEqual(await ids('a'), ['0']);
        await s.enqueue([copy('a', '2')]);
        assert.deepEqual(await ids('a'), ['0', '2']);
      });
    });
  });
}
