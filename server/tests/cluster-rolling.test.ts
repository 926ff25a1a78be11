/**
 * Rolling restart (deploy/rolling-restart.ts) of a real three-node cluster
 * behind HAProxy while SDK clients (JmqtClient with reconnect, over WebSocket
 * and TCP through HAProxy's frontends) publish and receive QoS 1: each node in
 * turn is drained (POST /api/drain, DRAIN_SECONDS = 4), exits 0, is started
 * again and is UP in HAProxy before the next. Every acknowledged message is
 * delivered to every subscriber, no client stays disconnected longer than a
 * few seconds, and each node's clients come back spread over its drain window
 * (the test prints the histogram).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rollingRestart, type NodeRestart } from '../../deploy/rolling-restart';
import { Status } from '../../shared/status';
import { JmqtClient } from '../../shared/client/jmqt-client';
import { NodeSocketTransport } from '../../shared/client/node/socket-transport';
import { NodeWsTransport } from '../../shared/client/node/ws-transport';
import { CHECKED_BACKEND, clusterSkip, sleep, startCluster, unique, waitUntil, type TestCluster } from '../testing/cluster';

const skip = await clusterSkip();
const DRAIN_SECONDS = 4;
const CHANNELS = 6;

interface Drop {
  at: number;
  reason: string;
  /** When the session was open again. */
  back?: number;
}

/** An SDK client through HAProxy, whose drops, returns and pushes are recorded. */
class Tracked {
  readonly client: JmqtClient;
  readonly drops: Drop[] = [];
  /** channel → distinct `n` received. */
  readonly received = new Map<string, Set<number>>();

  constructor(readonly name: string, readonly kind: 'ws' | 'tcp', cluster: TestCluster) {
    const transport = kind === 'ws'
      ? new NodeWsTransport(`ws://127.0.0.1:${cluster.frontends.webSocket}/`)
      : new NodeSocketTransport({ host: '127.0.0.1', port: cluster.frontends.socket });
    // The default backoff: 0.5-1 s first, doubling; none after a drain's 4002.
    this.client = new JmqtClient(transport, { reconnect: true, requestTimeoutMs: 5000 });
    this.client.on('disconnect', ({ reason }) => {
      const last = this.drops.at(-1);
      if (!last || last.back !== undefined) this.drops.push({ at: Date.now(), reason });
    });
    this.client.on('state', ({ state }) => {
      const last = this.drops.at(-1);
      if (state === 'session' && last && last.back === undefined) last.back = Date.now();
    });
    this.client.on('push', ({ channel, data }) => {
      let seen = this.received.get(channel);
      if (!seen) this.received.set(channel, (seen = new Set()));
      seen.add((data as { n: number }).n);
    });
  }

  async login(): Promise<this> {
    const auth = await this.client.auth({ client_name: this.name });
    assert.equal(auth.status, Status.OK);
    assert.equal((await this.client.conn(auth.clientId!, auth.token!)).status, Status.OK);
    return this;
  }
}

/** QoS 1 `{n}` to `channel` every `everyMs`; a pub that fails or is refused is sent again with the same id until acknowledged. */
function publishing(publisher: Tracked, channel: string, everyMs: number) {
  const acked = new Set<number>();
  const refused = new Map<string, number>();
  let running = true;
  const done = (async () => {
    for (let n = 1; running; n++) {
      const giveUp = () => !running && Date.now() > stoppedAt + 15_000;
      while (!giveUp()) {
        if (publisher.client.state !== 'session') {
          await sleep(20);
          continue;
        }
        const answer = await publisher.client.pub(channel, { n }, { qos: 1, id: `${publisher.name}-${n}` }).catch((error: Error) => error);
        if (!(answer instanceof Error) && answer.status === Status.OK) {
          acked.add(n);
          break;
        }
        const why = answer instanceof Error ? answer.message.replace(/\(.*$/, '').trim() : `status ${answer.status}`;
        refused.set(why, (refused.get(why) ?? 0) + 1);
        await sleep(50);
      }
      await sleep(everyMs);
    }
  })();
  let stoppedAt = Infinity;
  return {
    acked, refused,
    stop: async () => {
      running = false;
      stoppedAt = Date.now();
      await done;
    },
    /** Gives up at once (a failed test). */
    abort: () => {
      running = false;
      stoppedAt = -Infinity;
    },
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

describe('rolling restart of a 3-node cluster behind HAProxy', { skip, timeout: 150_000 }, () => {
  it('drains and restarts every node while QoS 1 flows: nothing acknowledged lost, short outages, reconnections spread over the drain window', { timeout: 120_000 }, async (t) => {
    const began = Date.now();
    const cluster = await startCluster({ nodes: 3, env: { JMQT_DRAIN_SECONDS: String(DRAIN_SECONDS) }, checkIntervalMs: 500 });
    const clients: Tracked[] = [];
    const flows: Array<ReturnType<typeof publishing>> = [];
    try {
      const run = unique('roll');
      const channel = (j: number) => `${run}/ch${j}`;
      // 12 subscribers (8 WebSocket, 4 TCP), each on 2 of the 6 channels; 6 publishers (4 WebSocket, 2 TCP), one channel each.
      const subscribers = await Promise.all(Array.from({ length: 12 }, (_, i) => new Tracked(`${run}-sub${i}`, i % 3 === 2 ? 'tcp' : 'ws', cluster).login()));
      const publishers = await Promise.all(Array.from({ length: CHANNELS }, (_, j) => new Tracked(`${run}-pub${j}`, j % 3 === 2 ? 'tcp' : 'ws', cluster).login()));
      clients.push(...subscribers, ...publishers);
      const channelsOf = (i: number) => [channel(i % CHANNELS), channel((i + 1) % CHANNELS)];
      for (const [i, subscriber] of subscribers.entries()) {
        for (const name of channelsOf(i)) assert.equal((await subscriber.client.sub(name, true)).status, Status.OK);
      }
      await cluster.waitReplicated();
      const byNode = (await cluster.clientsByNode()).map((ids) => ids.filter((id) => id.startsWith(run)).length);
      assert.ok(byNode.every((count) => count > 0), `clients on every node before the restart: ${byNode.join(', ')}`);

      flows.push(...publishers.map((publisher, j) => publishing(publisher, channel(j), 100)));
      await waitUntil(() => flows.every((flow) => flow.acked.size >= 5), 15_000, 'every publisher to flow');

      const exits: Array<{ node: string; code: number | null; output: string }> = [];
      const restarts: NodeRestart[] = await rollingRestart({
        nodes: cluster.nodes.map((node) => ({ name: node.name, host: '127.0.0.1', webSocket: node.ports.webSocket })),
        haproxy: { statsPort: cluster.statsPort, backend: CHECKED_BACKEND },
        stepTimeoutMs: 30_000,
        log: (line) => t.diagnostic(line),
        // The test's supervisor: once the drained process has exited by itself, start it again.
        restart: async (node) => {
          const index = cluster.nodes.findIndex((candidate) => candidate.name === node.name);
          const running = cluster.nodes[index]!.process!;
          const code = await cluster.exited(index, 30_000);
          exits.push({ node: node.name, code, output: running.output() });
          await cluster.restart(index);
        },
      });
      await sleep(1000);
      await Promise.all(flows.map((flow) => flow.stop()));

      // 1. Every node drained, wrote storage and exited 0.
      assert.deepEqual(exits.map(({ node, code }) => [node, code]), [['node1', 0], ['node2', 0], ['node3', 0]]);
      for (const exit of exits) assert.match(exit.output, /drain done: storage written and closed/, exit.node);

      // 2. Every acknowledged message reached every subscriber of its channel.
      const missing = () => subscribers.flatMap((subscriber, i) => channelsOf(i).flatMap((name) => {
        const j = Number(name.slice(name.lastIndexOf('ch') + 2));
        const got = subscriber.received.get(name) ?? new Set<number>();
        return [...flows[j]!.acked].filter((n) => !got.has(n)).map((n) => `${subscriber.name} ${name} #${n}`);
      }));
      await waitUntil(() => missing().length === 0, 20_000, () => `every acknowledged message delivered; missing ${missing().length}, e.g. ${missing().slice(0, 5).join('; ')}`, 200);
      const acknowledged = flows.reduce((sum, flow) => sum + flow.acked.size, 0);

      // 3. Every client that was dropped came back within a few seconds.
      const drops = clients.flatMap((client) => client.drops.map((drop) => ({ client, ...drop })));
      assert.ok(drops.every((drop) => drop.back !== undefined), `every dropped client reconnected: ${drops.filter((drop) => drop.back === undefined).map((drop) => drop.client.name).join(', ')}`);
      const gaps = drops.map((drop) => drop.back! - drop.at).sort((a, b) => a - b);
      const byKind = (kind: 'ws' | 'tcp') => drops.filter((drop) => drop.client.kind === kind).map((drop) => drop.back! - drop.at).sort((a, b) => a - b);
      assert.ok(drops.length >= clients.length, `every client was on some drained node: ${drops.length} drops for ${clients.length} clients`);
      assert.ok(drops.every((drop) => drop.client.kind === 'tcp' || drop.reason.startsWith('node draining, reconnect now (code 4002')),
        `WebSocket clients were closed with 4002: ${[...new Set(drops.filter((drop) => drop.client.kind === 'ws').map((drop) => drop.reason))].join('; ')}`);
      assert.ok(gaps.at(-1)! <= 5000, `no client disconnected longer than 5 s; longest ${gaps.at(-1)} ms`);

      // 4. Each node's clients were dropped and came back spread over its drain window.
      const windowMs = DRAIN_SECONDS * 1000;
      const bucketMs = 500;
      for (const restart of restarts) {
        const mine = drops.filter((drop) => drop.at >= restart.drainRequestedAt && drop.at <= restart.exitedAt);
        const offsets = mine.map((drop) => drop.back! - restart.drainRequestedAt);
        const buckets = Array<number>(Math.ceil((windowMs + 3000) / bucketMs)).fill(0);
        for (const offset of offsets) buckets[Math.min(buckets.length - 1, Math.floor(offset / bucketMs))]!++;
        t.diagnostic(`${restart.node}: ${mine.length} sessions drained in ${restart.plan['batches']} batches every ${restart.plan['intervalMs']} ms; ` +
          `reconnections per ${bucketMs} ms after the drain request: ${buckets.map((count, k) => `${(k * bucketMs / 1000).toFixed(1)}s:${count}`).join(' ')}; ` +
          `exited after ${restart.exitedAt - restart.drainRequestedAt} ms, UP again ${restart.routedAt - restart.exitedAt} ms later`);
        assert.equal(mine.length, restart.plan['sessions'], `${restart.node}: every session it held was drained`);
        if (mine.length >= 4) {
          const seconds = new Set(offsets.filter((offset) => offset < windowMs + 1000).map((offset) => Math.floor(offset / 1000)));
          assert.ok(seconds.size >= Math.min(mine.length, DRAIN_SECONDS) - 1, `${restart.node}: reconnections spread over the window, in seconds ${[...seconds].join(', ')}`);
          const dropsAt = mine.map((drop) => drop.at - restart.drainRequestedAt).sort((a, b) => a - b);
          assert.ok(dropsAt.at(-1)! - dropsAt[0]! >= windowMs * 0.5, `${restart.node}: drops from ${dropsAt[0]} to ${dropsAt.at(-1)} ms`);
        }
      }
      const refusals = flows.reduce((all, flow) => { for (const [why, count] of flow.refused) all[why] = (all[why] ?? 0) + count; return all; }, {} as Record<string, number>);
      t.diagnostic(`${acknowledged} QoS 1 messages acknowledged and all delivered; publish retries ${JSON.stringify(refusals)}`);
      t.diagnostic(`${drops.length} disconnections of ${clients.length} clients; outage ms p50 ${percentile(gaps, 0.5)}, p95 ${percentile(gaps, 0.95)}, max ${gaps.at(-1)}; ` +
        `WebSocket (4002, at once) max ${byKind('ws').at(-1)}, TCP (first backoff delay) max ${byKind('tcp').at(-1)}`);
      t.diagnostic(`whole test ${((Date.now() - began) / 1000).toFixed(1)} s`);
    } finally {
      for (const flow of flows) flow.abort();
      for (const client of clients) await client.client.disconnect(false).catch(() => undefined);
      await cluster.stop();
    }
  });
});
