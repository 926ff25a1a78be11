/**
 * Three real nodes (MariaDB storage, Redis bus) behind a real HAProxy:
 * fan-out and P2P across nodes, retained and subscriptions seen alike from
 * every node, takeover across nodes, racing conns, and the QoS 1 queue limit
 * when the subscriber acknowledges on another node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClusterClient, clusterSkip, connectMany, sleep, startCluster, unique, waitUntil, type TestCluster,
} from '../testing/cluster';

const skip = await clusterSkip();
const QUEUE_LIMIT = 100;

/** Per subscriber: how many of `expected` distinct keys it got, and how many extra copies. */
function tally(pushes: Array<{ dt: any }>, key: (dt: any) => string | null): { distinct: Set<string>; duplicates: number } {
  const distinct = new Set<string>();
  let duplicates = 0;
  for (const push of pushes) {
    const k = key(push.dt);
    if (k === null) continue;
    if (distinct.has(k)) duplicates++;
    else distinct.add(k);
  }
  return { distinct, duplicates };
}

describe('cluster: 3 nodes behind HAProxy', { skip, timeout: 120_000 }, () => {
  let cluster: TestCluster;
  const opened: ClusterClient[] = [];
  // Past HAProxy, to one node: through its relay, which sends the PROXY v2 header the node requires.
  const direct = async (node: number, clientId: string) => {
    const client = await ClusterClient.connect(cluster.nodes[node]!.direct.socket, clientId);
    opened.push(client);
    return client;
  };

  before(async () => {
    // A small queue limit, so the queue-limit test needs few messages; every other test stays far below it.
    cluster = await startCluster({ nodes: 3, ssl: true, env: { JMQT_MAX_QUEUED_PER_CLIENT: String(QUEUE_LIMIT), JMQT_QUEUE_POLICY: 'reject-publisher' } });
  });
  after(async () => {
    for (const client of opened) client.destroy();
    await cluster?.stop();
  });

  it('every node reports storage and bus in /api/health, and HAProxy routes to all three', async () => {
    for (const node of cluster.nodes) {
      const { status, body } = await cluster.get(node.index, '/api/health');
      assert.equal(status, 200);
      assert.equal(body.node, node.name);
      assert.equal(body.storage, 'ok', 'MariaDB answers');
      assert.equal(body.bus, 'ok', 'Redis answers');
    }
  });

  it('200 clients through HAProxy: spread over the nodes; QoS 0 and QoS 1 fan-out 1→199 and P2P across nodes', { timeout: 90_000 }, async (t) => {
    const run = unique('fan');
    const ids = Array.from({ length: 200 }, (_, i) => `${run}-${String(i).padStart(3, '0')}`);
    const clients = await connectMany(cluster.frontends.socket, ids);
    opened.push(...clients);

    const byNode = await cluster.clientsByNode();
    const ours = byNode.map((list) => list.filter((id) => id.startsWith(run)));
    t.diagnostic(`sessions per node: ${ours.map((list) => list.length).join(', ')}`);
    for (const [index, list] of ours.entries()) assert.ok(list.length > 0, `node ${index + 1} got no client`);
    assert.equal(ours.flat().length, 200, 'every client has exactly one session');
    assert.equal(new Set(ours.flat()).size, 200);
    const nodeOf = new Map(ours.flatMap((list, index) => list.map((id) => [id, index] as const)));

    const channel = `${run}/news`;
    const [publisher, ...subscribers] = clients as [ClusterClient, ...ClusterClient[]];
    const subAcks = await Promise.all(subscribers.map((client) => client.subscribe(channel)));
    assert.ok(subAcks.every((st) => st === 1));
    await cluster.waitReplicated();

    // QoS 0: nothing fails, so every message reaches every subscriber, once.
    const qos0 = 20;
    for (let n = 0; n < qos0; n++) await publisher.publish(channel, { k: 'q0', n });
    const q0 = (client: ClusterClient) => tally(client.pushesOn(channel).filter((push) => push.q === undefined), (dt) => (dt.k === 'q0' ? String(dt.n) : null));
    await waitUntil(() => subscribers.every((client) => q0(client).distinct.size === qos0), 20_000,
      () => `QoS 0: every subscriber to get ${qos0}; short: ${subscribers.filter((client) => q0(client).distinct.size < qos0).length}`);
    const q0Duplicates = subscribers.reduce((sum, client) => sum + q0(client).duplicates, 0);
    t.diagnostic(`QoS 0 fan-out: ${qos0} messages × ${subscribers.length} subscribers delivered, ${q0Duplicates} duplicates`);
    assert.equal(q0Duplicates, 0, 'QoS 0 is never sent twice');

    // QoS 1: every subscriber gets every acknowledged message at least once.
    const qos1 = 20;
    const statuses = await Promise.all(Array.from({ length: qos1 }, (_, n) => publisher.publish(channel, { k: 'q1', n }, { q: 1, id: `q1-${n}` })));
    assert.deepEqual(statuses, new Array(qos1).fill(1));
    const q1 = (client: ClusterClient) => tally(client.pushesOn(channel).filter((push) => push.q === 1), (dt) => (dt.k === 'q1' ? String(dt.n) : null));
    await waitUntil(() => subscribers.every((client) => q1(client).distinct.size === qos1), 20_000,
      () => `QoS 1: every subscriber to get ${qos1}; short: ${subscribers.filter((client) => q1(client).distinct.size < qos1).length}`);
    const q1Duplicates = subscribers.reduce((sum, client) => sum + q1(client).duplicates, 0);
    t.diagnostic(`QoS 1 fan-out: ${qos1} messages × ${subscribers.length} subscribers delivered, ${q1Duplicates} duplicates`);

    // P2P, QoS 1: client i → #client(i+1); most pairs cross nodes.
    const perPair = 3;
    const p2pStatuses = await Promise.all(clients.flatMap((client, i) => Array.from({ length: perPair }, (_, n) =>
      client.publish(`#${ids[(i + 1) % ids.length]}`, { k: 'p2p', from: i, n }, { q: 1, id: `p2p-${n}` }))));
    assert.ok(p2pStatuses.every((st) => st === 1), `P2P pubAcks: ${JSON.stringify(p2pStatuses.filter((st) => st !== 1))}`);
    const crossing = ids.filter((id, i) => nodeOf.get(id) !== nodeOf.get(ids[(i + 1) % ids.length]!)).length;
    const p2p = (client: ClusterClient) => tally(client.pushesOn(`#${client.clientId}`), (dt) => (dt.k === 'p2p' ? `${dt.from}/${dt.n}` : null));
    await waitUntil(() => clients.every((client) => p2p(client).distinct.size === perPair), 20_000,
      () => `P2P: every client to get ${perPair}; short: ${clients.filter((client) => p2p(client).distinct.size < perPair).map((client) => client.clientId).slice(0, 5)}`);
    for (const [i, client] of clients.entries()) {
      const from = new Set(client.pushesOn(`#${client.clientId}`).map((push) => push.cl));
      assert.deepEqual([...from], [ids[(i + ids.length - 1) % ids.length]], 'P2P goes to its target only');
    }
    const p2pDuplicates = clients.reduce((sum, client) => sum + p2p(client).duplicates, 0);
    t.diagnostic(`P2P QoS 1: ${ids.length * perPair} messages over ${crossing} node-crossing pairs of ${ids.length}, ${p2pDuplicates} duplicates`);
    assert.ok(crossing > 0);

    for (const client of clients) client.close();
  });

  it('WebSocket, TLS socket and TLS WebSocket frontends route too (TLS passes through to the nodes)', async () => {
    const run = unique('tr');
    const [ws, tls, wss] = await Promise.all([
      ClusterClient.connect(cluster.frontends.webSocket, `${run}-ws`, { transport: 'ws' }),
      ClusterClient.connect(cluster.frontends.sslSocket!, `${run}-tls`, { transport: 'tls' }),
      ClusterClient.connect(cluster.frontends.sslWebSocket!, `${run}-wss`, { transport: 'wss' }),
    ]);
    opened.push(ws, tls, wss);
    const channel = `${run}/c`;
    for (const client of [tls, wss]) assert.equal(await client.subscribe(channel), 1);
    await cluster.waitReplicated();
    assert.equal(await ws.publish(channel, 'over haproxy', { q: 1, id: '1' }), 1);
    for (const client of [tls, wss]) {
      await waitUntil(() => client.pushesOn(channel).length === 1, 5000, `${client.clientId} to get the push`);
      assert.equal(client.pushesOn(channel)[0]!.cl, ws.clientId);
    }
    for (const client of [ws, tls, wss]) client.close();
  });

  it('retained messages and $mySubscriptions are the same from every node', async () => {
    const run = unique('ret');
    const channel = `${run}/state`;
    const publisher = await direct(0, `${run}-pub`);
    assert.equal(await publisher.publish(channel, { v: 1 }, { q: 1, id: 'r1', rt: true }), 1);

    // A subscriber on each node gets the retained message on sub.
    const readers = await Promise.all([0, 1, 2].map((node) => direct(node, `${run}-reader${node}`)));
    for (const reader of readers) {
      assert.equal(await reader.subscribe(channel, true), 1);
      const push = await waitUntil(() => reader.pushesOn(channel).find((p) => p.rt === 1), 5000, `${reader.clientId} to get the retained message`);
      assert.deepEqual(push, { cn: channel, dt: { v: 1 }, cl: publisher.clientId, rt: 1 });
    }
    const retainedOn = async (node: number) => ((await cluster.get(node, '/api/retained')).body.retained as Array<{ channel: string; data: unknown }>).find((r) => r.channel === channel)?.data;
    for (const node of [0, 1, 2]) assert.deepEqual(await retainedOn(node), { v: 1 });

    // Replaced from node 2: live subscribers everywhere get it as a normal push; a new sub gets the new one.
    await cluster.waitReplicated();
    const other = await direct(2, `${run}-pub2`);
    assert.equal(await other.publish(channel, { v: 2 }, { q: 1, id: 'r2', rt: true }), 1);
    for (const reader of readers) await waitUntil(() => reader.pushesOn(channel).some((p) => p.dt.v === 2 && p.rt === undefined && p.q === 1), 5000, `${reader.clientId} to get v2 live`);
    for (const node of [0, 1, 2]) assert.deepEqual(await retainedOn(node), { v: 2 });
    const late = await direct(1, `${run}-late`);
    await late.subscribe(channel);
    assert.deepEqual((await waitUntil(() => late.pushesOn(channel)[0], 5000, 'the late subscriber to get v2')).dt, { v: 2 });

    // JMQT 5: dt null clears it, for every node.
    assert.equal(await publisher.publish(channel, null, { q: 1, id: 'r3', rt: true }), 1);
    for (const node of [0, 1, 2]) assert.equal(await retainedOn(node), undefined);

    // $mySubscriptions of one client id, moving from node to node.
    const mover = `${run}-mover`;
    const channels = async (client: ClusterClient) => {
      const answer = await client.control('$mySubscriptions');
      assert.equal(answer['st'], 1);
      return answer['dt'].channels as Record<string, string>;
    };
    const base = { [`#${mover}`]: 'persistent', update: 'persistent' };
    const onA = await direct(0, mover);
    await onA.subscribe(`${run}/p1`, true);
    await onA.subscribe(`${run}/t1`, false);
    assert.deepEqual(await channels(onA), { ...base, [`${run}/p1`]: 'persistent', [`${run}/t1`]: 'temp' });
    await cluster.waitReplicated();
    const onB = await direct(1, mover);
    await onA.waitClosed();
    // A new session: the temporary subscription of the previous one is gone, on every node.
    assert.deepEqual(await channels(onB), { ...base, [`${run}/p1`]: 'persistent' });
    await onB.subscribe(`${run}/p2`, true);
    await cluster.waitReplicated();
    for (const node of [2, 0]) {
      const again = await direct(node, mover);
      assert.deepEqual(await channels(again), { ...base, [`${run}/p1`]: 'persistent', [`${run}/p2`]: 'persistent' }, `from node ${node + 1}`);
    }
    for (const client of opened) client.close();
  });

  it('takeover across nodes: the same client id on node 2 closes its connection on node 1; one session remains', async () => {
    const clientId = unique('tk');
    const sessionsOf = async () => (await cluster.clientsByNode()).map((list) => list.filter((id) => id === clientId).length);
    const onA = await direct(0, clientId);
    assert.deepEqual(await sessionsOf(), [1, 0, 0]);
    const onB = await direct(1, clientId);
    await onA.waitClosed(5000);
    await waitUntil(async () => JSON.stringify(await sessionsOf()) === '[0,1,0]', 5000, 'one session, on node 2');
    await onB.request({ hb: {} }, 'hbAck');

    // And P2P to that client id reaches the new session only, from any node.
    const sender = await direct(2, unique('tk-sender'));
    assert.equal(await sender.publish(`#${clientId}`, 'to the new one', { q: 1, id: '1' }), 1);
    await waitUntil(() => onB.pushesOn(`#${clientId}`).length === 1, 5000, 'the P2P push on node 2');
    assert.equal(onA.pushesOn(`#${clientId}`).length, 0);

    const onC = await direct(2, clientId);
    await onB.waitClosed(5000);
    await waitUntil(async () => JSON.stringify(await sessionsOf()) === '[0,0,1]', 5000, 'one session, on node 3');
    onC.close();
    sender.close();
  });

  it('two nodes racing for one client id: exactly one session survives every round', async (t) => {
    const rounds = 20;
    const outcomes: Record<string, number> = {};
    const started = Date.now();
    // One prober per node: once the survivor leaves, every node must know the client id is offline (P2P → 8).
    const probers = await Promise.all([0, 1, 2].map((node) => direct(node, unique(`prober${node}`))));
    let probe = 0;
    for (let round = 0; round < rounds && Date.now() - started < 40_000; round++) {
      const clientId = unique(`race${round}`);
      const [a, b] = [round % 3, (round + 1) % 3];
      const attempt = (node: number) => ClusterClient.connect(cluster.nodes[node]!.direct.socket, clientId, { requestMs: 8000 }).catch((error: Error & { status?: number }) => error.status ?? 'closed');
      const results = await Promise.all([attempt(a), attempt(b)]);
      const clients = results.filter((result): result is ClusterClient => result instanceof ClusterClient);
      opened.push(...clients);
      let sessions: number[] = [];
      const settledOnce = async () => {
        sessions = (await cluster.clientsByNode()).map((list) => list.filter((id) => id === clientId).length);
        return clients.filter((client) => client.connected).length === 1 && sessions.reduce((x, y) => x + y) === 1;
      };
      await waitUntil(settledOnce, 5000, () =>
        `round ${round}: one open connection and one session; open ${clients.filter((c) => c.connected).length}, sessions per node ${sessions}, results ${results.map((r) => (r instanceof ClusterClient ? 'connAck 1' : r))}`);
      await sleep(200);
      assert.ok(await settledOnce(), `round ${round}: still exactly one after 200 ms (sessions per node ${sessions})`);
      const survivor = clients.find((client) => client.connected)!;
      await survivor.request({ hb: {} }, 'hbAck');
      const key = results.map((r) => (r instanceof ClusterClient ? (r.connected ? 'won' : 'taken over') : `refused ${r}`)).sort().join(' + ');
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      survivor.close();
      let statuses: number[] = [];
      await waitUntil(async () => {
        statuses = await Promise.all(probers.map((prober) => prober.publish(`#${clientId}`, 'anyone there?', { q: 1, id: `probe${probe++}` })));
        return statuses.every((st) => st === 8);
      }, 3000, () => `round ${round}: every node to see ${clientId} offline after it left (P2P statuses by node: ${statuses})`, 100);
    }
    t.diagnostic(`race outcomes: ${JSON.stringify(outcomes)}`);
    for (const prober of probers) prober.close();
  });
  it('MAX_QUEUED_PER_CLIENT counts the acknowledgements a subscriber makes on another node', async () => {
    const run = unique('depth');
    const channel = `${run}/q`;
    const subscriber = await direct(1, `${run}-sub`);
    assert.equal(await subscriber.subscribe(channel, true), 1);
    await cluster.waitReplicated();
    const publisher = await direct(0, `${run}-pub`);
    // One message at a time, each acknowledged before the next: the queue never holds more than one.
    const statuses: number[] = [];
    for (let n = 0; n < QUEUE_LIMIT + 20; n++) {
      const st = await publisher.publish(channel, { n }, { q: 1, id: String(n) });
      statuses.push(st);
      if (st !== 1) break;
      await waitUntil(() => subscriber.pushesOn(channel).length > n, 5000, `push ${n}`, 2);
    }
    assert.deepEqual(statuses.filter((st) => st !== 1), [], `refused after ${statuses.indexOf(0)} acknowledged messages`);
  });
});
