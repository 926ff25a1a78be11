import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { busContract } from './bus.contract';
import { LocalBus, LocalHub } from './local';
import { LocalOwnership } from './ownership';

busContract('local', (nodeIds) => {
  const hub = new LocalHub();
  return nodeIds.map((nodeId) => new LocalBus(nodeId, hub));
});

describe('LocalOwnership (single node)', () => {
  it('fences grow per client id; only the latest claim holds and renews', async () => {
    const ownership = new LocalOwnership();
    const first = await ownership.claim('c');
    const second = await ownership.claim('c');
    assert.ok(second > first);
    assert.equal(await ownership.holds('c', first), false);
    assert.equal(await ownership.holds('c', second), true);
    assert.deepEqual(await ownership.renew([['c', first], ['c', second]]), ['c']);
    await ownership.release('c', first);
    assert.equal(await ownership.holds('c', second), true);
    await ownership.release('c', second);
    assert.equal(await ownership.holds('c', second), false);
  });
});
