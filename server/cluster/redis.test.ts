import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { busContract } from './bus.contract';
import { ownershipContract } from './ownership.contract';
import { RedisBus } from './redis';
import { RedisOwnership } from './redis-ownership';
import { serviceSkip } from '../testing/services';

const skip = await serviceSkip('Redis', 6379);
const prefix = `jmqt-test-${randomBytes(4).toString('hex')}`;
const options = { host: '127.0.0.1', port: 6379, db: 0, prefix };

if (skip) {
  it('Redis bus and ownership', { skip }, () => undefined);
} else {
  after(async () => {
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  busContract('redis', (nodeIds) => nodeIds.map((nodeId) => new RedisBus(nodeId, options)));

  ownershipContract('redis', () => new RedisOwnership('contract', options, 5000), (ownership) => ownership.close());

  describe('RedisOwnership across nodes, leases and a lost store', () => {
    const owners: RedisOwnership[] = [];
    const ownership = (nodeId: string, leaseMs = 5000) => {
      const owner = new RedisOwnership(nodeId, options, leaseMs);
      owners.push(owner);
      return owner;
    };
    after(async () => {
      await Promise.all(owners.map((owner) => owner.close()));
    });

    it('a later claim by another node wins; the earlier one no longer holds or renews', async () => {
      const a = ownership('a');
      const b = ownership('b');
      const fenceA = await a.claim('c1');
      assert.equal(await a.holds('c1', fenceA), true);
      const fenceB = await b.claim('c1');
      assert.ok(fenceB > fenceA);
      assert.equal(await a.holds('c1', fenceA), false);
      assert.equal(await b.holds('c1', fenceB), true);
      assert.deepEqual(await a.renew([['c1', fenceA]]), ['c1']);
      assert.deepEqual(await b.renew([['c1', fenceB]]), []);
    });

    it('racing claims end with exactly one holder', async () => {
      const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((nodeId) => ownership(nodeId));
      const fences = await Promise.all(nodes.map((node) => node.claim('race')));
      const holders = await Promise.all(nodes.map((node, index) => node.holds('race', fences[index]!)));
      assert.equal(holders.filter(Boolean).length, 1);
      assert.equal(new Set(fences).size, fences.length, 'every claim got its own fence');
    });

    it('a lease not renewed expires; a claim after it answers a larger fence and holds', async () => {
      const short = ownership('s', 300);
      const fence = await short.claim('lease');
      await new Promise((resolve) => setTimeout(resolve, 500)); // time for the 300 ms lease under test to lapse
      assert.equal(await short.holds('lease', fence), false);
      const again = await short.claim('lease');
      assert.ok(again > fence);
      assert.equal(await short.holds('lease', again), true);
    });

    it('after Redis lost every key: fences still grow, and the owner keeps its claim on renewal', async () => {
      const a = ownership('a');
      const b = ownership('b');
      const before = await a.claim('lost');
      const redis = new Redis({ host: '127.0.0.1', port: 6379 });
      await redis.del(`${prefix}:owner:lost`, `${prefix}:fence:lost`);
      redis.disconnect();
      assert.deepEqual(await a.renew([['lost', before]]), [], 'a vanished key is set again, not reported lost');
      assert.equal(await a.holds('lost', before), true);
      const after = await b.claim('lost');
      assert.ok(after > before, `fence ${after} after the loss is above ${before}`);
      assert.deepEqual(await a.renew([['lost', before]]), ['lost'], 'a key another node holds is lost');
    });

    it('commands fail fast, not hang, when Redis is unreachable', async () => {
      const down = new RedisOwnership('d', { host: '127.0.0.1', port: 1, db: 0, prefix }, 1000);
      const started = Date.now();
      await assert.rejects(down.claim('x'));
      assert.ok(Date.now() - started < 5000);
      await down.close();
    });
  });
}
