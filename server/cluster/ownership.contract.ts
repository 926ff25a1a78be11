/**
 * The one suite every Ownership passes (LocalOwnership, RedisOwnership), as
 * bus.contract.ts is for buses: what one node may rely on, whoever keeps the
 * claims. Behaviour of several nodes, leases and a lost store is each
 * implementation's own (redis.test.ts). `create` answers a fresh Ownership of
 * one node; every test uses client ids of its own, so implementations that
 * share a store across tests do not see each other's claims.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Ownership } from './ownership';

export function ownershipContract<T extends Ownership>(name: string, create: () => T, close: (ownership: T) => Promise<void> = async () => undefined): void {
  describe(`Ownership contract: ${name}`, () => {
    const created: T[] = [];
    const ownership = (): T => {
      const made = create();
      created.push(made);
      return made;
    };
    afterEach(async () => {
      await Promise.all(created.splice(0).map((made) => close(made)));
    });

    it('claim answers a fence that grows with every claim of a client id', async () => {
      const owner = ownership();
      const fences = [];
      for (let n = 0; n < 5; n++) fences.push(await owner.claim('grow'));
      for (let n = 1; n < fences.length; n++) assert.ok(fences[n]! > fences[n - 1]!, `fence ${fences[n]} after ${fences[n - 1]}`);
      assert.ok(fences.every((fence) => Number.isSafeInteger(fence) && fence > 0), `positive whole fences: ${fences.join(', ')}`);
    });

    it('holds is true only for the latest fence', async () => {
      const owner = ownership();
      const first = await owner.claim('latest');
      assert.equal(await owner.holds('latest', first), true);
      const second = await owner.claim('latest');
      assert.equal(await owner.holds('latest', first), false);
      assert.equal(await owner.holds('latest', second), true);
      assert.equal(await owner.holds('latest', second + 1), false, 'a fence never handed out');
      assert.equal(await owner.holds('latest-never-claimed', second), false, 'a client id never claimed');
    });

    it('claims in flight at once each get their own fence, and only the largest holds', async () => {
      const owner = ownership();
      const fences = await Promise.all(Array.from({ length: 5 }, () => owner.claim('in-flight')));
      assert.equal(new Set(fences).size, fences.length, `distinct fences: ${fences.join(', ')}`);
      const largest = Math.max(...fences);
      const holding = await Promise.all(fences.map((fence) => owner.holds('in-flight', fence)));
      assert.deepEqual(holding, fences.map((fence) => fence === largest));
    });

    it('claims of other client ids leave a claim alone', async () => {
      const owner = ownership();
      const mine = await owner.claim('alone-a');
      await owner.claim('alone-b');
      await owner.claim('alone-b');
      const other = await owner.claim('alone-c');
      await owner.release('alone-c', other);
      assert.equal(await owner.holds('alone-a', mine), true);
    });

    it('renew answers the client ids no longer owned, in the order given, and the others stay held', async () => {
      const owner = ownership();
      const staleA = await owner.claim('renew-a');
      const currentA = await owner.claim('renew-a');
      const kept = await owner.claim('renew-kept');
      const staleB = await owner.claim('renew-b');
      await owner.claim('renew-b');
      assert.deepEqual(await owner.renew([['renew-b', staleB], ['renew-kept', kept], ['renew-a', staleA]]), ['renew-b', 'renew-a']);
      assert.deepEqual(await owner.renew([['renew-a', currentA], ['renew-kept', kept]]), []);
      assert.equal(await owner.holds('renew-a', currentA), true);
      assert.equal(await owner.holds('renew-kept', kept), true);
    });

    it('renew of nothing answers nothing', async () => {
      assert.deepEqual(await ownership().renew([]), []);
    });

    it('release by the current fence ends the claim', async () => {
      const owner = ownership();
      const fence = await owner.claim('release');
      await owner.release('release', fence);
      assert.equal(await owner.holds('release', fence), false);
    });

    it('a stale release does nothing: the current claim still holds and renews', async () => {
      const owner = ownership();
      const stale = await owner.claim('stale');
      const current = await owner.claim('stale');
      await owner.release('stale', stale);
      assert.equal(await owner.holds('stale', current), true);
      assert.deepEqual(await owner.renew([['stale', current]]), []);
      await owner.release('stale', current + 1);
      assert.equal(await owner.holds('stale', current), true, 'a fence never handed out releases nothing');
      await owner.release('stale-never-claimed', current);
      await owner.release('stale', current);
      await owner.release('stale', current);
      assert.equal(await owner.holds('stale', current), false, 'a second release of the same fence is harmless');
    });

    it('a claim after a release answers a larger fence than any before', async () => {
      const owner = ownership();
      const first = await owner.claim('again');
      const second = await owner.claim('again');
      await owner.release('again', second);
      const third = await owner.claim('again');
      assert.ok(third > second && second > first, `fences ${first}, ${second}, then ${third}`);
      assert.equal(await owner.holds('again', third), true);
      assert.equal(await owner.holds('again', second), false);
    });

    it('leaseMs is a positive length (Infinity: a claim never lapses)', () => {
      const { leaseMs } = ownership();
      assert.equal(typeof leaseMs, 'number');
      assert.ok(leaseMs > 0);
    });
  });
}
