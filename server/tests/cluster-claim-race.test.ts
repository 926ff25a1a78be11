/**
 * A cluster node renews its ownership leases every CLUSTER_LEASE_SECONDS / 3
 * for every session in its registry. A session enters the registry before its
 * claim on the client id has come back from Redis (fence still 0); a renewal
 * in that window must not take the session for one another node took over.
 *
 * Seen in the cluster suites under load: now and then one of the 200 clients
 * that connect through HAProxy at once is closed with "ownership lost to
 * another node" although no other node ever claimed its client id. Here the
 * window is held open on purpose (the claim's answer waits for one renewal),
 * so the race happens every time: one node in this process, real Redis.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisServerBinary, runnable, startRedisServer } from '../../deploy/launch';
import { RawClient, TEST_SECRET } from '../testing/harness';
import { freePort } from '../testing/process';
import { servicesRequired } from '../testing/services';
import { RedisBus } from '../cluster/redis';
import { RedisOwnership } from '../cluster/redis-ownership';
import type { Ownership } from '../cluster/ownership';
import { createLogger, type Logger } from '../log';
import { sampleApplication } from '../sample-app';
import { startServer } from '../server';
import { TokenSigner } from '../tokens';

const redisSkip = (await runnable(redisServerBinary(), ['--version'])) ? false : 'redis-server not installed';
if (redisSkip && servicesRequired) throw new Error('redis-server is required (JMQT_TEST_REQUIRE_SERVICES=1) but cannot be run');

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => { resolve = done; });
  return { promise, resolve };
}

describe('cluster ownership: lease renewal while a claim is in flight', { skip: redisSkip }, () => {
  it('a session whose claim is still being answered when the leases are renewed keeps its session (no other node claimed it)', { timeout: 20_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jmqt-claim-race-'));
    const redisPort = await freePort();
    const redis = await startRedisServer(redisPort, dir);
    const lines: string[] = [];
    const keep = (level: string) => (message: string) => { lines.push(`${level} ${message}`); };
    const log: Logger = { debug: keep('DBG'), info: keep('INF'), warn: keep('WRN'), error: keep('ERR'), close: async () => undefined };
    const options = { host: '127.0.0.1', port: redisPort, db: 0, prefix: 'claim-race' };
    const real = new RedisOwnership('node1', options, 1000);
    const claimedInRedis = deferred();
    const renewedMeanwhile = deferred();
    let renewalsWithClaiming = 0;
    let claimInFlight = false;
    // RedisOwnership, except that the answer of the claim of `claimer` waits until one
    // renewal ran while that claim was in flight: the window the cluster suites hit by chance.
    const ownership: Ownership & { close(): Promise<void> } = {
      leaseMs: real.leaseMs,
      async claim(clientId) {
        const fence = await real.claim(clientId);
        if (clientId === 'claimer') {
          claimInFlight = true;
          claimedInRedis.resolve();
          await renewedMeanwhile.promise;
          claimInFlight = false;
        }
        return fence;
      },
      holds: (clientId, fence) => real.holds(clientId, fence),
      async renew(held) {
        const claiming = claimInFlight;
        const lost = await real.renew(held);
        if (claiming) {
          renewalsWithClaiming++;
          // After the node has acted on this renewal's answer.
          setTimeout(renewedMeanwhile.resolve, 50);
        }
        return lost;
      },
      release: (clientId, fence) => real.release(clientId, fence),
      close: () => real.close(),
    };
    const server = await startServer({
      config: {
        SOCKET_PORT: 0, WEBSOCKET_PORT: 0, BIND_ADDRESS: '127.0.0.1', SQLITE_PATH: join(dir, 'jmqt.db'), SQLITE_SYNC: 'normal',
        NODE_ID: 'node1', CLUSTER_LEASE_SECONDS: 1,
      },
      application: sampleApplication(new TokenSigner(TEST_SECRET, 3600), createLogger('ERR', '')),
      logger: log,
      cluster: { bus: new RedisBus('node1', options), ownership },
    });
    let client: RawClient | null = null;
    try {
      client = await RawClient.open('tcp', server.ports.socket);
      const auth = await client.request({ auth: { dt: { client_name: 'claimer' } } }, 'authAck');
      const connAck = client.next('connAck', {}, 5000).catch((error: Error) => ({ error: error.message }));
      client.send({ conn: { at: auth['at'], cl: 'claimer' } });
      await claimedInRedis.promise;
      const answer = await connAck;
      assert.ok(renewalsWithClaiming >= 1, 'a renewal ran while the claim was in flight');
      assert.deepEqual(answer, { st: 1, ts: 15 },
        `conn refused or connection closed; the node logged:\n${lines.filter((line) => /claimer/.test(line)).join('\n')}`);
      await client.request({ hb: {} }, 'hbAck');
      assert.equal(server.broker.sessions.has('claimer'), true);
      assert.ok(!lines.some((line) => line.includes('ownership lost')), lines.join('\n'));
    } finally {
      client?.close();
      await server.close();
      await redis.stop('SIGTERM', 3000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
