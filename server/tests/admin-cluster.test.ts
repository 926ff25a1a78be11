/**
 * The admin API across two real nodes (MariaDB, Redis, HAProxy): a kick
 * through one node ends a session on the other (close code 4001); one
 * client's detail shows its session wherever it is; the trace of a QoS 1
 * message merges what each node saw; recent events come from every node,
 * and live events of one node reach a dashboard watching another.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { api, LiveEvents, webSocketSession } from '../testing/admin-client';
import { ClusterClient, clusterSkip, startCluster, unique, waitUntil, type TestCluster } from '../testing/cluster';

const skip = await clusterSkip();

describe('admin API across a two-node cluster', { skip, timeout: 120_000 }, () => {
  let cluster: TestCluster;
  const opened: ClusterClient[] = [];
  const call = (node: number, method: string, path: string, body?: unknown) => api(cluster.nodes[node]!.ports.webSocket, method, path, { body, proxy: true });
  const direct = async (node: number, clientId: string) => {
    const client = await ClusterClient.connect(cluster.nodes[node]!.direct.socket, clientId);
    opened.push(client);
    return client;
  };

  before(async () => {
    cluster = await startCluster({ nodes: 2 });
  });
  after(async () => {
    for (const client of opened) client.destroy();
    await cluster?.stop();
  });

  it('a kick through node1 ends a WebSocket session held by node2 with 4001; its detail shows node2 from node1 first', async () => {
    const clientId = unique('cx-kick');
    const session = await webSocketSession(cluster.nodes[1]!.direct.webSocket, clientId);
    const detail = await waitUntil(async () => {
      const { status, body } = await call(0, 'GET', `/api/clients/${clientId}`);
      return status === 200 && body.session ? body : null;
    }, 10_000, 'node1 to see the session on node2');
    assert.deepEqual([detail.online, detail.session.node, detail.session.transport, detail.nodes.missing], [true, 'node2', 'WEB_SOCKET', []]);
    const kicked = await call(0, 'DELETE', `/api/clients/${clientId}/session`);
    assert.deepEqual([kicked.status, kicked.body.node, kicked.body.closeCode], [200, 'node2', 4001]);
    assert.deepEqual(await session.closed, [4001, 'kicked by operator']);
    await waitUntil(async () => (await call(0, 'DELETE', `/api/clients/${clientId}/session`)).status === 404, 10_000, 'the kicked client to be nowhere');
    const events = (await call(1, 'GET', `/api/events?clientId=${clientId}`)).body.events;
    assert.ok(events.some((event: any) => event.kind === 'kick' && event.node === 'node2'));
    assert.ok(events.some((event: any) => event.kind === 'admin' && event.action === 'kick' && event.node === 'node1'));
  });

  it('the trace of a QoS 1 message published on node1 merges both nodes: pushes and acknowledgements where they happened', async () => {
    const run = unique('cx-tr');
    const channel = `${run}/ch`;
    const onOne = await direct(0, `${run}-a`);
    const onTwo = await direct(1, `${run}-b`);
    for (const client of [onOne, onTwo]) assert.equal(await client.subscribe(channel, true), 1);
    assert.equal((await call(1, 'PUT', `/api/clients/${run}-c/subscriptions/${channel}`, { persistent: true })).status, 201);
    await cluster.waitReplicated();
    const publisher = await direct(0, `${run}-pub`);
    assert.equal(await publisher.publish(channel, { n: 1 }, { q: 1, id: 'm1' }), 1);
    // Asked on node2 by the publisher's id, which only node1 knows.
    const trace = await waitUntil(async () => {
      const { status, body } = await call(1, 'GET', `/api/trace/${encodeURIComponent(`${run}-pub:m1`)}`);
      return status === 200 && body.acknowledged.length === 2 ? body : null;
    }, 10_000, 'both acknowledgements in the trace');
    assert.deepEqual([trace.published.node, trace.published.publisher, trace.stored.count], ['node1', `${run}-pub`, 3]);
    assert.deepEqual(trace.pushed.map((step: any) => [step.clientId, step.node, step.attempt]).sort(), [[`${run}-a`, 'node1', 1], [`${run}-b`, 'node2', 1]]);
    assert.deepEqual(trace.acknowledged.map((step: any) => [step.clientId, step.node]).sort(), [[`${run}-a`, 'node1'], [`${run}-b`, 'node2']]);
    assert.deepEqual(trace.queued, [`${run}-c`]);
    assert.deepEqual(trace.nodes, { answered: ['node1', 'node2'], missing: [] });
  });

  it('events: node1 answers with node2\'s too, and a dashboard watching node1 live hears node2\'s', async () => {
    const live = await LiveEvents.open(cluster.nodes[0]!.direct.webSocket);
    try {
      await live.until((l) => l.messages.some((message) => message.hello), 'hello');
      // The watch announcement travels on the bus: until it reached node2, its events are not forwarded, so try again.
      let clientId = '';
      await waitUntil(async () => {
        clientId = unique('cx-ev');
        const client = await direct(1, clientId);
        const heard = await live.until((l) => l.events().some((event) => event.kind === 'session-start' && event.clientId === clientId && event.node === 'node2'), 'node2\'s session start, live on node1', 1000)
          .then(() => true, () => false);
        client.close();
        return heard;
      }, 10_000, 'a session start on node2, live on node1');
      const { body } = await call(0, 'GET', `/api/events?clientId=${clientId}`);
      assert.deepEqual([body.events.at(-1).kind, body.events.at(-1).node, body.missing], ['session-start', 'node2', []]);
    } finally {
      live.close();
    }
  });
});
