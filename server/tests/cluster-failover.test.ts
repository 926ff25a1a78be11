/**
 * Failures in a real three-node cluster behind HAProxy: `kill -9` of a node
 * during a QoS 1 stream, a Redis restart during traffic, and one node losing
 * its MariaDB connections (through a relay the test cuts; the machine's
 * MariaDB itself is never stopped). Last, QoS 1 load from every node at
 * once, whose acknowledgements must all reach the shared storage.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClusterClient, clusterSkip, connectMany, sleep, startCluster, unique, waitUntil, type TestCluster,
} from '../testing/cluster';
import { waitForServers } from '../../deploy/launch';

const skip = await clusterSkip();

interface Stream {
  /** Sequence numbers the broker acknowledged with status 1. */
  acked: Set<number>;
  /** pubAck statuses other than 1, with how many of each. */
  refused: Map<number, number>;
  /** pubs that got no pubAck in time (a hang). */
  unanswered: number;
  sent: number;
  stop(): Promise<void>;
}

/** Publishes QoS 1 `{n}` to `channel` with at most `window` unacknowledged, until stop() or `maxMessages`. */
function stream(publisher: ClusterClient, channel: string, options: { window?: number; maxMessages?: number; everyMs?: number } = {}): Stream {
  const window = options.window ?? 10;
  const max = options.maxMessages ?? 2000;
  const state: Stream = { acked: new Set(), refused: new Map(), unanswered: 0, sent: 0, stop: async () => undefined };
  let running = true;
  const worker = async () => {
    while (running && state.sent < max) {
      const n = state.sent++;
      try {
        const st = await publisher.publish(channel, { n }, { q: 1, id: `s${n}` });
        if (st === 1) state.acked.add(n);
        else state.refused.set(st, (state.refused.get(st) ?? 0) + 1);
      } catch (error) {
        if (/within/.test((error as Error).message)) state.unanswered++;
        else state.refused.set(-1, (state.refused.get(-1) ?? 0) + 1);
      }
      if (options.everyMs) await sleep(options.everyMs);
    }
  };
  const workers = Array.from({ length: window }, worker);
  state.stop = async () => {
    running = false;
    await Promise.all(workers);
  };
  return state;
}

/** Distinct `n` of the pushes a client got on `channel`, and how many came more than once. */
function received(client: ClusterClient, channel: string): { got: Set<number>; duplicates: number } {
  const got = new Set<number>();
  let duplicates = 0;
  for (const push of client.pushesOn(channel)) {
    if (got.has(push.dt.n)) duplicates++;
    else got.add(push.dt.n);
  }
  return { got, duplicates };
}

const missing = (client: ClusterClient, channel: string, acked: Set<number>) => {
  const { got } = received(client, channel);
  return [...acked].filter((n) => !got.has(n));
};

describe('cluster failover: 3 nodes behind HAProxy', { skip, timeout: 150_000 }, () => {
  let cluster: TestCluster;
  const opened: ClusterClient[] = [];
  // Past HAProxy, to one node: through its relay, which sends the PROXY v2 header the node requires.
  const direct = async (node: number, clientId: string, options = {}) => {
    const client = await ClusterClient.connect(cluster.nodes[node]!.direct.socket, clientId, options);
    opened.push(client);
    return client;
  };

  before(async () => {
    // Node 2's MariaDB connections go through a relay the storage test cuts.
    cluster = await startCluster({ nodes: 3, mysqlRelay: [1] });
  });
  after(async () => {
    for (const client of opened) client.destroy();
    await cluster?.stop();
  });

  it('kill -9 of a node during a QoS 1 stream: its clients reconnect through HAProxy and get every acknowledged message', { timeout: 60_000 }, async (t) => {
    const run = unique('kill');
    const channel = `${run}/stream`;
    const victim = 2;
    const ids = Array.from({ length: 30 }, (_, i) => `${run}-sub${i}`);
    const subscribers = await connectMany(cluster.frontends.socket, ids, { reconnect: true, reconnectForMs: 30_000 });
    opened.push(...subscribers);
    for (const subscriber of subscribers) assert.equal(await subscriber.subscribe(channel, true), 1);
    const onVictim = (await cluster.clientsByNode())[victim]!.filter((id) => id.startsWith(run));
    assert.ok(onVictim.length > 0, 'some subscribers are on the node to be killed');
    await cluster.waitReplicated();
    const publisher = await direct(0, `${run}-pub`);
    // Connected to the doomed node directly, and never coming back.
    const ghost = await direct(victim, `${run}-ghost`);

    const flow = stream(publisher, channel, { window: 8, maxMessages: 1500 });
    await waitUntil(() => flow.acked.size >= 50, 10_000, 'the stream to flow');
    const killedAfter = flow.acked.size;
    const killedAt = Date.now();
    await cluster.kill(victim, 'SIGKILL');
    const victims = subscribers.filter((client) => onVictim.includes(client.clientId));
    await waitUntil(() => victims.every((client) => client.reconnects >= 1), 15_000,
      () => `every client of the killed node to reconnect; ${victims.filter((c) => c.reconnects === 0).length} have not`);
    const reconnectedIn = Date.now() - killedAt;
    await sleep(1000);
    await flow.stop();

    await waitUntil(() => subscribers.every((client) => missing(client, channel, flow.acked).length === 0), 20_000, () => {
      const short = subscribers.filter((client) => missing(client, channel, flow.acked).length > 0);
      return `every subscriber to get all ${flow.acked.size} acknowledged messages; ${short.length} short, e.g. ${short[0]?.clientId} misses ${short[0] && missing(short[0], channel, flow.acked).slice(0, 10)}`;
    });
    const duplicates = subscribers.reduce((sum, client) => sum + received(client, channel).duplicates, 0);
    const victimDuplicates = victims.reduce((sum, client) => sum + received(client, channel).duplicates, 0);
    t.diagnostic(`killed node3 after ${killedAfter} acknowledged messages; ${victims.length} of its subscribers reconnected through HAProxy within ${reconnectedIn} ms`);
    t.diagnostic(`${flow.sent} pubs: ${flow.acked.size} acknowledged, refused ${JSON.stringify(Object.fromEntries(flow.refused))}, ${flow.unanswered} unanswered; ` +
      `every subscriber got every acknowledged message; duplicates ${duplicates} (${victimDuplicates} at the killed node's subscribers)`);
    assert.equal(flow.unanswered, 0);
    // Every subscriber has one session again, none on the dead node; HAProxy took it out of the rotation.
    const byNode = await cluster.clientsByNode();
    assert.equal(byNode.flat().filter((id) => id.startsWith(`${run}-sub`)).length, ids.length);
    await waitForServers(cluster.statsPort, 'jmqt_socket', { node1: 'UP', node2: 'UP', node3: 'DOWN' }, 5000);
    const p2pStatus = (from: ClusterClient, to: string) => from.publish(`#${to}`, 'there?', { q: 1, id: unique('probe') });
    // Within the lease (10 s) a silent node's sessions still count as online.
    if (Date.now() - killedAt < 8000) assert.equal(await p2pStatus(publisher, ghost.clientId), 1, 'the ghost within the lease');

    // Back with the same NODE_ID, before the lease ran out: its hello tells the
    // others that the sessions it held are gone; it takes traffic again.
    await cluster.restart(victim);
    await waitUntil(async () => (await p2pStatus(publisher, ghost.clientId)) === 8, 3000, 'the ghost of the restarted node to be offline');
    const back = await direct(victim, `${run}-back`);
    assert.equal(await back.subscribe(`${run}/after`), 1);
    await cluster.waitReplicated();
    assert.equal(await publisher.publish(`${run}/after`, { n: 0 }, { q: 1, id: 'after' }), 1);
    await waitUntil(() => back.pushesOn(`${run}/after`).length === 1, 5000, 'a push to the restarted node');
    assert.equal(await back.publish(`#${publisher.clientId}`, { n: 1 }, { q: 1, id: 'p2p' }), 1);
    await waitUntil(() => publisher.pushesOn(`#${publisher.clientId}`).length === 1, 5000, 'a P2P push from the restarted node');
    for (const client of subscribers) client.close();

    // Killed and not restarted: once it has been silent for a lease (10 s), the others take its sessions as ended.
    const ghost2 = await direct(victim, `${run}-ghost2`);
    await waitUntil(async () => (await p2pStatus(publisher, ghost2.clientId)) === 1, 3000, 'ghost2 online for node1');
    const killedAgain = Date.now();
    await cluster.kill(victim, 'SIGKILL');
    await waitUntil(async () => (await p2pStatus(publisher, ghost2.clientId)) === 8, 20_000, 'node1 to take the silent node\'s sessions as ended', 250);
    t.diagnostic(`sessions of a killed node taken as ended by the others ${Date.now() - killedAgain} ms after the kill (lease 10 s)`);
    await cluster.restart(victim);
  });

  it('Redis restart during traffic: publishers get 5 (no hang, no crash), health 503 then 200, delivery across nodes resumes', { timeout: 60_000 }, async (t) => {
    const run = unique('redis');
    const channel = `${run}/r`;
    // Two directly on nodes 1 and 2, one through HAProxy, which must keep its connection while it marks every node down.
    const viaHaproxy = await ClusterClient.connect(cluster.frontends.socket, `${run}-s3`);
    opened.push(viaHaproxy);
    const subscribers = [await direct(0, `${run}-s1`), await direct(1, `${run}-s2`), viaHaproxy];
    for (const subscriber of subscribers) assert.equal(await subscriber.subscribe(channel, true), 1);
    await cluster.waitReplicated();
    const publisher = await direct(2, `${run}-pub`, { requestMs: 5000 });
    const flow = stream(publisher, channel, { window: 1, everyMs: 20, maxMessages: 1000 });
    await waitUntil(() => flow.acked.size >= 10, 10_000, 'traffic before the outage');

    await cluster.stopRedis();
    const downAt = Date.now();
    await waitUntil(() => (flow.refused.get(5) ?? 0) > 0, 5000, 'a pubAck with 5 while Redis is down');
    const health = async () => Promise.all(cluster.nodes.map((node) => cluster.get(node.index, '/api/health')));
    await waitUntil(async () => (await health()).every(({ status, body }) => status === 503 && body.bus === 'down'), 5000, '503 with bus down from every node');
    await waitForServers(cluster.statsPort, 'jmqt_socket', { node1: 'DOWN', node2: 'DOWN', node3: 'DOWN' }, 5000);
    const acceptedWhileDown = flow.acked.size;
    // A new session cannot be claimed either: conn is answered 5, at once.
    const refusedConn = await ClusterClient.connect(cluster.nodes[0]!.direct.socket, `${run}-late`).then(
      (client) => { client.destroy(); return 1; }, (error: Error & { status?: number }) => error.status);
    assert.equal(refusedConn, 5, 'conn while Redis is down');
    await sleep(300);
    assert.equal(flow.acked.size, acceptedWhileDown, 'no publish is accepted while the bus is down');

    await cluster.startRedis();
    const upAt = Date.now();
    await waitUntil(async () => (await health()).every(({ status, body }) => status === 200 && body.bus === 'ok'), 10_000, '200 with bus ok from every node');
    await cluster.waitRouted();
    const before = flow.acked.size;
    await waitUntil(() => flow.acked.size > before + 10, 10_000, 'publishes accepted again');
    // Past a lease renewal (every lease / 3 = 3.3 s): Redis lost every key, yet no session may end.
    await sleep(upAt + 4000 - Date.now());
    await flow.stop();

    t.diagnostic(`Redis down ${upAt - downAt} ms; ${flow.sent} pubs: ${flow.acked.size} acknowledged, refused ${JSON.stringify(Object.fromEntries(flow.refused))}, ${flow.unanswered} unanswered`);
    assert.equal(flow.unanswered, 0, 'every pub was answered');
    assert.deepEqual([...flow.refused.keys()], [5], 'refused with 5 only');
    for (const node of cluster.nodes) assert.ok(node.process, `${node.name} still runs`);
    assert.ok(subscribers.every((client) => client.drops === 0), 'sessions survive a short Redis outage');

    await waitUntil(() => subscribers.every((client) => missing(client, channel, flow.acked).length === 0), 10_000,
      () => `every subscriber to get every acknowledged message; missing ${subscribers.map((client) => missing(client, channel, flow.acked).slice(0, 10))}`);
    const duplicates = subscribers.reduce((sum, client) => sum + received(client, channel).duplicates, 0);
    t.diagnostic(`every acknowledged message reached the three subscribers (nodes 1 and 2, and one through HAProxy); duplicates ${duplicates}`);

    // New sessions through HAProxy, across nodes, after the outage.
    const [late1, late2] = await connectMany(cluster.frontends.socket, [`${run}-late1`, `${run}-late2`]);
    opened.push(late1!, late2!);
    assert.equal(await late2!.subscribe(`${run}/late`), 1);
    await cluster.waitReplicated();
    assert.equal(await late1!.publish(`${run}/late`, 'after', { q: 1, id: 'late' }), 1);
    await waitUntil(() => late2!.pushesOn(`${run}/late`).length === 1, 5000, 'delivery after the outage');
    for (const client of [...subscribers, publisher, late1!, late2!]) client.close();
  });

  it('/api/health reports a node\'s storage: 503 while its MariaDB connections are cut, HAProxy routes around it', { timeout: 40_000 }, async () => {
    const relay = cluster.relays.get(1)!;
    await relay.cut();
    try {
      const down = await waitUntil(async () => {
        const answer = await cluster.get(1, '/api/health');
        return answer.status === 503 ? answer.body : null;
      }, 10_000, 'node2 to report its storage down');
      assert.equal(down.storage, 'down');
      assert.equal(down.bus, 'ok');
      for (const node of [0, 2]) assert.equal((await cluster.get(node, '/api/health')).body.storage, 'ok');
      await waitForServers(cluster.statsPort, 'jmqt_socket', { node1: 'UP', node2: 'DOWN', node3: 'UP' }, 5000);
      const run = unique('db');
      const clients = await connectMany(cluster.frontends.socket, Array.from({ length: 6 }, (_, i) => `${run}-${i}`));
      opened.push(...clients);
      // node2's /api/clients needs its storage; the other two must hold all six.
      const elsewhere = await Promise.all([0, 2].map(async (node) => ((await cluster.get(node, '/api/clients')).body.clients as Array<{ clientId: string }>)
        .filter((client) => client.clientId.startsWith(run)).length));
      assert.equal(elsewhere[0]! + elsewhere[1]!, clients.length, 'no new client lands on node2');
      for (const client of clients) client.close();
    } finally {
      await relay.restore();
    }
    await waitUntil(async () => (await cluster.get(1, '/api/health')).status === 200, 15_000, 'node2 healthy again');
    await cluster.waitRouted();
  });
  it('under QoS 1 load from every node, every acknowledged copy leaves storage', async (t) => {
    const run = unique('acks');
    const channel = `${run}/q`;
    const subscribers = await connectMany(cluster.frontends.socket, Array.from({ length: 10 }, (_, i) => `${run}-s${i}`));
    const publishers = await connectMany(cluster.frontends.socket, Array.from({ length: 10 }, (_, i) => `${run}-p${i}`));
    opened.push(...subscribers, ...publishers);
    for (const subscriber of subscribers) assert.equal(await subscriber.subscribe(channel, true), 1);
    await cluster.waitReplicated();
    const perPublisher = 300;
    const acked = new Set<string>();
    await Promise.all(publishers.map(async (publisher, i) => {
      for (let n = 0; n < perPublisher; n += 10) {
        const statuses = await Promise.all(Array.from({ length: 10 }, (_, k) => publisher.publish(channel, { k: `${i}/${n + k}` }, { q: 1, id: String(n + k) })));
        statuses.forEach((st, k) => { if (st === 1) acked.add(`${i}/${n + k}`); });
      }
    }));
    await waitUntil(() => subscribers.every((client) => new Set(client.pushesOn(channel).map((push) => push.dt.k)).size >= acked.size), 20_000, 'every push');
    const ours = new Set(subscribers.map((client) => client.clientId));
    let left = -1;
    try {
      await waitUntil(async () => {
        const lists = await Promise.all(cluster.nodes.map(async (node) => (await cluster.get(node.index, '/api/clients')).body.clients as Array<{ clientId: string; queuedQos1: number }>));
        left = lists.flat().filter((client) => ours.has(client.clientId)).reduce((sum, client) => sum + client.queuedQos1, 0);
        return left === 0;
      }, 5000, 'no queued copy left', 250);
    } finally {
      t.diagnostic(`${acked.size} messages acknowledged × ${subscribers.length} subscribers, all pushed and acknowledged; copies left in storage: ${left}`);
      for (const client of [...subscribers, ...publishers]) client.close();
    }
  });
});
