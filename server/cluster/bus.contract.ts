/** The ClusterBus contract: one suite every bus (LocalBus, RedisBus) passes, run by local.test.ts and redis.test.ts. */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BusMessage, ClusterBus } from './bus';

type Received = Array<{ message: BusMessage; from: string }>;

/**
 * The one suite every bus passes (ARCHITECTURE rule 7). `create` answers
 * buses of one cluster, not yet started, one per node id given.
 */
export function busContract(name: string, create: (nodeIds: string[]) => ClusterBus[]): void {
  describe(`ClusterBus contract: ${name}`, () => {
    let buses: ClusterBus[] = [];
    afterEach(async () => {
      await Promise.all(buses.map((bus) => bus.stop()));
      buses = [];
    });

    async function startNodes(...nodeIds: string[]): Promise<Received[]> {
      buses = create(nodeIds);
      const inboxes: Received[] = nodeIds.map(() => []);
      await Promise.all(buses.map((bus, index) => bus.start((message, from) => inboxes[index]!.push({ message, from }))));
      return inboxes;
    }

    async function settle(check: () => boolean): Promise<void> {
      const until = Date.now() + 2000;
      while (!check() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    }

    it('is healthy once started', async () => {
      await startNodes('a');
      assert.equal(buses[0]!.healthy, true);
      assert.equal(buses[0]!.nodeId, 'a');
    });

    it('broadcast reaches every other node, not the sender, with the sender named', async () => {
      const [a, b, c] = await startNodes('a', 'b', 'c');
      buses[0]!.broadcast({ t: 'hello', node: 'a' });
      await settle(() => b!.length === 1 && c!.length === 1);
      assert.deepEqual(b, [{ message: { t: 'hello', node: 'a' }, from: 'a' }]);
      assert.deepEqual(c, [{ message: { t: 'hello', node: 'a' }, from: 'a' }]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(a, []);
    });

    it('send reaches only the node named', async () => {
      const [a, b, c] = await startNodes('a', 'b', 'c');
      buses[0]!.send('c', { t: 'pub', cn: 'x', dt: '{"k":1}', cl: 'p', id: 'i1' });
      await settle(() => c!.length === 1);
      assert.deepEqual(c, [{ message: { t: 'pub', cn: 'x', dt: '{"k":1}', cl: 'p', id: 'i1' }, from: 'a' }]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(a, []);
      assert.deepEqual(b, []);
    });

    it('keeps the order of one sender\'s messages', async () => {
      const [, b] = await startNodes('a', 'b');
      for (let n = 0; n < 200; n++) buses[0]!.send('b', { t: 'sub', cl: `c${n}`, cn: 'x', pr: true });
      await settle(() => b!.length === 200);
      assert.deepEqual(b!.map(({ message }) => (message as { cl: string }).cl), Array.from({ length: 200 }, (_, n) => `c${n}`));
    });

    it('carries every message type unchanged, Unicode included', async () => {
      const [, b] = await startNodes('a', 'b');
      const messages: BusMessage[] = [
        { t: 'pub', cn: 'ch ✓', dt: '"héllo"', cl: '' },
        { t: 'sub', cl: 'c', cn: 'x', pr: false },
        { t: 'unsub', cl: 'c', cns: ['x', 'y'] },
        { t: 'session', cl: 'c', node: 'a', fence: 7 },
        { t: 'ended', cl: 'c', node: 'a', fence: 7 },
        { t: 'hello', node: 'a' },
        { t: 'sessions', node: 'a', list: [['c', 7], ['d', 2]] },
      ];
      for (const message of messages) buses[0]!.send('b', message);
      await settle(() => b!.length === messages.length);
      assert.deepEqual(b!.map(({ message }) => message), messages);
    });

    it('a stopped node receives nothing more', async () => {
      const [, b] = await startNodes('a', 'b');
      await buses[1]!.stop();
      buses[0]!.broadcast({ t: 'hello', node: 'a' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(b, []);
    });
  });
}
