/**
 * The admin API over HTTP against a real broker: sessions paged and
 * searched, one client's session, subscriptions, queue and counters, forced
 * subscriptions, queue listing and purge, retained messages, publishing as
 * the server, body and parameter checks, audit lines and their counts in
 * /metrics, recent events and their live socket. The guard (ADMIN_TOKEN or
 * loopback) is in admin-guard.test.ts, kicks in admin-kick.test.ts, traces
 * in admin-trace.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { api, LiveEvents, startLoggedBroker, type ApiOptions, type LoggedBroker } from '../testing/admin-client';
import { connectClient, waitFor, type RawClient } from '../testing/harness';

describe('admin API', () => {
  let broker: LoggedBroker;
  const opened: RawClient[] = [];
  const call = (method: string, path: string, options?: ApiOptions) => api(broker.ports.webSocket, method, path, options);
  const client = async (clientId: string, transport: 'tcp' | 'ws' = 'tcp') => {
    const connected = await connectClient(broker, clientId, transport);
    opened.push(connected);
    return connected;
  };

  before(async () => {
    broker = await startLoggedBroker({ MAX_ID_LENGTH: 16 });
  });
  after(async () => {
    for (const connected of opened) connected.close();
    await broker?.destroy();
  });

  it('GET /api/clients: this node\'s sessions by client id, paged with the total, search matching a part; today\'s fields kept', async () => {
    for (const id of ['pg-b3', 'pg-a1', 'pg-b1', 'pg-a2', 'pg-b2']) await client(id);
    const first = await call('GET', '/api/clients?search=pg-b&limit=2');
    assert.equal(first.status, 200);
    assert.equal(first.body.total, 3);
    assert.deepEqual(first.body.clients.map((c: any) => c.clientId), ['pg-b1', 'pg-b2']);
    const rest = await call('GET', '/api/clients?search=pg-b&offset=2&limit=2');
    assert.deepEqual(rest.body.clients.map((c: any) => c.clientId), ['pg-b3']);
    const one = first.body.clients[0];
    for (const field of ['transport', 'remoteHost', 'connectedAt', 'lastSeenMs', 'outboundBytes', 'queuedQos1', 'evictedQos1', 'subscriptions', 'node']) {
      assert.ok(field in one, `clients[].${field}`);
    }
    assert.equal(one.subscriptions['#pg-b1'], 'persistent');
    assert.ok(Array.isArray(first.body.offlineQueues));
    // Paging is capped; a limit that is no number is refused, naming it.
    assert.equal((await call('GET', '/api/clients?limit=5000')).body.limit, 1000);
    const bad = await call('GET', '/api/clients?limit=0');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^limit: /);
    assert.match((await call('GET', '/api/clients?offset=-1')).body.error, /^offset: /);
    assert.match((await call('GET', `/api/clients?search=${'x'.repeat(200)}`)).body.error, /^search: longer than/);
  });

  it('GET /api/clients/:clientId: session, subscriptions, QoS 1 queue depth and age, counters of pushes, refusals and limit hits', async () => {
    const subscriber = await client('dt-sub');
    const publisher = await client('dt-pub');
    await subscriber.request({ sub: { cn: 'dt/news', pr: 1 } }, 'subAck', { st: 1 });
    for (const n of [1, 2, 3]) await publisher.request({ pub: { cn: 'dt/news', dt: { n }, q: 1, id: `dt-${n}` } }, 'pubAck', { st: 1 });
    await waitFor(() => subscriber.all('push').filter((push) => push['cn'] === 'dt/news').length === 3, 'three pushes');
    // Refused requests, by status: a control channel cannot be subscribed (11); a pub id over MAX_ID_LENGTH is 10 and a limit hit.
    await subscriber.request({ sub: { cn: '$nope', pr: 0 } }, 'subAck', { st: 11 });
    await subscriber.request({ pub: { cn: 'dt/news', dt: 1, id: 'x'.repeat(17) } }, 'pubAck', { st: 10 });

    const { status, body } = await call('GET', '/api/clients/dt-sub');
    assert.equal(status, 200);
    assert.equal(body.clientId, 'dt-sub');
    assert.equal(body.online, true);
    assert.equal(body.session.transport, 'SOCKET');
    assert.equal(body.session.remoteHost, '127.0.0.1');
    assert.equal(body.session.node, broker.broker.router.nodeId);
    assert.ok(Date.parse(body.session.connectedAt) <= Date.now());
    assert.equal(typeof body.session.lastSeenMs, 'number');
    assert.equal(body.session.outboundBytes, 0);
    assert.deepEqual(body.subscriptions, { '#dt-sub': 'persistent', update: 'persistent', 'dt/news': 'persistent' });
    // Never acknowledged: all three wait; the oldest was published a moment ago.
    assert.equal(body.queue.depth, 3);
    assert.ok(body.queue.oldestAgeMs >= 0 && body.queue.oldestAgeMs < 30_000, `oldest age ${body.queue.oldestAgeMs}`);
    assert.ok(body.counters.delivered >= 3, `delivered ${body.counters.delivered}`);
    assert.deepEqual(body.counters.dropped, { outboundCap: 0, queueFull: 0, evicted: 0, expired: 0, purged: 0 });
    assert.equal(body.counters.deferred, 0);
    assert.deepEqual(body.counters.refused, { 10: 1, 11: 1 });
    assert.deepEqual(body.counters.limitHits, { MAX_ID_LENGTH: 1 });

    assert.equal((await call('GET', '/api/clients/nobody-at-all')).status, 404);
    const long = await call('GET', `/api/clients/${'c'.repeat(129)}`);
    assert.equal(long.status, 400);
    assert.match(long.body.error, /^clientId: longer than MAX_CLIENT_ID_LENGTH/);
  });

  it('PUT and DELETE /api/clients/:clientId/subscriptions/:channel force a subscription (channel names with / and #) and take it away', async () => {
    const target = await client('fs-target');
    const publisher = await client('fs-pub');
    const put = await call('PUT', '/api/clients/fs-target/subscriptions/forced/a', { body: { persistent: true } });
    assert.deepEqual([put.status, put.body], [201, { clientId: 'fs-target', channel: 'forced/a', persistent: true, created: true }]);
    assert.equal(broker.broker.index.channelsOf('fs-target')?.get('forced/a'), true);
    const again = await call('PUT', '/api/clients/fs-target/subscriptions/forced%2Fa', { body: { persistent: false } });
    assert.deepEqual([again.status, again.body.created, again.body.persistent], [200, false, false]);
    publisher.send({ pub: { cn: 'forced/a', dt: 'hello' } });
    await target.next('push', { cn: 'forced/a', dt: 'hello' });

    // A P2P channel is the server's to give (%23 is #); a control channel is none.
    assert.equal((await call('PUT', '/api/clients/fs-target/subscriptions/%23fs-pub', { body: { persistent: true } })).status, 201);
    const control = await call('PUT', '/api/clients/fs-target/subscriptions/$time', { body: { persistent: true } });
    assert.deepEqual([control.status, control.body.error.split(':')[0]], [400, 'channel']);

    const removed = await call('DELETE', '/api/clients/fs-target/subscriptions/forced/a');
    assert.deepEqual([removed.status, removed.body], [200, { clientId: 'fs-target', channel: 'forced/a', removed: true }]);
    assert.equal(broker.broker.index.channelsOf('fs-target')?.has('forced/a'), false);
    assert.equal((await call('DELETE', '/api/clients/fs-target/subscriptions/forced/a')).status, 404);
    // Channel length is checked like a client's (MAX_CHANNEL_LENGTH, 512).
    const long = await call('DELETE', `/api/clients/fs-target/subscriptions/${'c'.repeat(513)}`);
    assert.deepEqual([long.status, long.body.error.split(':')[0]], [400, 'channel']);
  });

  it('GET /api/clients/:clientId/queue lists the queued QoS 1 copies; DELETE purges them and answers how many went', async () => {
    await call('PUT', '/api/clients/q-away/subscriptions/q/ch', { body: { persistent: true } });
    const publisher = await client('q-pub');
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      await publisher.request({ pub: { cn: 'q/ch', dt: { n, pad: 'x'.repeat(n) }, q: 1, id: `q${n}` } }, 'pubAck', { st: 1 });
      ids.push((await call('GET', `/api/trace/q-pub:q${n}`)).body.id);
    }
    const listed = await call('GET', '/api/clients/q-away/queue?limit=2');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.total, 3);
    assert.deepEqual(listed.body.copies.map((copy: any) => copy.id), ids.slice(0, 2));
    const first = listed.body.copies[0];
    assert.deepEqual([first.channel, first.sender, first.bytes], ['q/ch', 'q-pub', JSON.stringify({ n: 1, pad: 'x' }).length]);
    assert.ok(first.ageMs >= 0 && first.ageMs < 30_000);
    assert.equal((await call('GET', '/api/clients/q-away')).body.queue.depth, 3);

    const purged = await call('DELETE', '/api/clients/q-away/queue');
    assert.deepEqual(purged.body, { clientId: 'q-away', removed: 3 });
    assert.equal(await broker.queuedFor('q-away'), 0);
    const after = await call('GET', '/api/clients/q-away');
    assert.equal(after.body.queue.depth, 0);
    assert.equal(after.body.counters.dropped.purged, 3);
    assert.deepEqual((await call('DELETE', '/api/clients/q-away/queue')).body.removed, 0);
  });

  it('GET /api/retained?prefix= keeps the channels starting with it; DELETE /api/retained/:channel clears one', async () => {
    const publisher = await client('rt-pub');
    for (const channel of ['rt/a', 'rt/b', 'other/c']) await publisher.request({ pub: { cn: channel, dt: { on: channel }, q: 1, rt: 1, id: channel } }, 'pubAck', { st: 1 });
    const listed = await call('GET', '/api/retained?prefix=rt/');
    assert.deepEqual(listed.body.retained.map((message: any) => [message.channel, message.sender, message.data]), [['rt/a', 'rt-pub', { on: 'rt/a' }], ['rt/b', 'rt-pub', { on: 'rt/b' }]]);
    assert.equal(listed.body.total, 2);
    assert.ok((await call('GET', '/api/retained')).body.retained.some((message: any) => message.channel === 'other/c'));
    assert.deepEqual((await call('DELETE', '/api/retained/rt/a')).body, { channel: 'rt/a', removed: true });
    assert.equal((await call('DELETE', '/api/retained/rt/a')).status, 404);
    assert.deepEqual((await call('GET', '/api/retained?prefix=rt/')).body.retained.map((message: any) => message.channel), ['rt/b']);
  });

  it('POST /api/publish publishes as the server (cl ""): the pubAck status and the message id, which is the push id with QoS 1', async () => {
    const subscriber = await client('pb-sub');
    await subscriber.request({ sub: { cn: 'pb/ch', pr: 0 } }, 'subAck', { st: 1 });
    const qos1 = await call('POST', '/api/publish', { body: { channel: 'pb/ch', data: { k: 1 }, qos: 1, retain: true } });
    assert.equal(qos1.status, 200);
    assert.deepEqual([qos1.body.status, qos1.body.statusName, qos1.body.qos, qos1.body.retained], [1, 'OK', 1, true]);
    const push = await subscriber.seen('push', { cn: 'pb/ch', dt: { k: 1 } });
    assert.deepEqual([push['cl'], push['q'], push['id']], ['', 1, qos1.body.id]);
    assert.deepEqual((await call('GET', '/api/retained?prefix=pb/')).body.retained[0].data, { k: 1 });

    const qos0 = await call('POST', '/api/publish', { body: { channel: 'pb/ch', data: 'zero' } });
    assert.deepEqual([qos0.body.status, qos0.body.qos, qos0.body.retained], [1, 0, false]);
    assert.equal(typeof qos0.body.id, 'string');
    const push0 = await subscriber.seen('push', { cn: 'pb/ch', dt: 'zero' });
    assert.deepEqual([push0['cl'], push0['id']], ['', undefined]);
    // P2P to a client offline: 8, as a client's pub would get.
    assert.equal((await call('POST', '/api/publish', { body: { channel: '#nobody-here', data: 1, qos: 1 } })).body.status, 8);
  });

  it('every JSON body and parameter is checked: 400 with a message naming the field, 413 past the size limit', async () => {
    const post = (body: unknown) => call('POST', '/api/publish', { body });
    const field = async (body: unknown) => {
      const answer = await post(body);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      return answer.body.error.split(':')[0];
    };
    assert.equal(await field({ data: 1 }), 'channel');
    assert.equal(await field({ channel: 7, data: 1 }), 'channel');
    assert.equal(await field({ channel: '   ', data: 1 }), 'channel');
    assert.equal(await field({ channel: 'c'.repeat(513), data: 1 }), 'channel');
    assert.equal(await field({ channel: '$time', data: 1 }), 'channel');
    assert.equal(await field({ channel: 'ok' }), 'data');
    assert.equal(await field({ channel: 'ok', data: 1, qos: 2 }), 'qos');
    assert.equal(await field({ channel: 'ok', data: 1, qos: '1' }), 'qos');
    assert.equal(await field({ channel: 'ok', data: 1, retain: 'yes' }), 'retain');
    assert.equal(await field({ channel: '#peer', data: 1, retain: true }), 'retain');
    assert.equal(await field({ channel: 'ok', data: 1, extra: true }), 'extra');
    let deep: unknown = 1;
    for (let n = 0; n < 70; n++) deep = [deep];
    assert.equal(await field({ channel: 'ok', data: deep }), 'data');
    assert.equal(await field([1, 2]), 'body');
    const notJson = await call('POST', '/api/publish', { raw: '{"channel": ' });
    assert.deepEqual([notJson.status, notJson.body], [400, { error: 'body: not valid JSON' }]);
    const plain = await call('POST', '/api/publish', { raw: '{"channel":"ok","data":1}', headers: { 'content-type': 'text/plain' } });
    assert.deepEqual([plain.status, plain.body.error.split(':')[0]], [400, 'body']);
    const huge = await call('POST', '/api/publish', { body: { channel: 'ok', data: 'x'.repeat(1024 * 1024 + 8192) } });
    assert.equal(huge.status, 413);
    assert.match(huge.body.error, /^body: larger than \d+ bytes$/);
    assert.equal(await field(undefined), 'body');
    const put = await call('PUT', '/api/clients/x/subscriptions/y', { body: {} });
    assert.deepEqual([put.status, put.body.error.split(':')[0]], [400, 'persistent']);
    const trace = await call('GET', `/api/trace/${'t'.repeat(300)}`);
    assert.deepEqual([trace.status, trace.body.error.split(':')[0]], [400, 'messageId']);
    assert.equal((await call('GET', '/api/clients/x/queue?limit=abc')).status, 400);
  });

  it('every action is an audit line (what, on whom, from which address) and counted in /metrics', async () => {
    const before = broker.lines.length;
    await call('PUT', '/api/clients/au-%22x%0A/subscriptions/au/ch', { body: { persistent: false } });
    await call('DELETE', '/api/clients/au-%22x%0A/subscriptions/au/ch');
    await call('DELETE', '/api/clients/au-%22x%0A/queue');
    await call('POST', '/api/publish', { body: { channel: 'au/ch', data: 1 } });
    await call('DELETE', '/api/retained/au/none');
    await call('DELETE', '/api/clients/au-nobody/session');
    const audit = broker.lines.slice(before).filter((line) => line.startsWith('INF admin audit: '));
    assert.deepEqual(audit.map((line) => line.split(' ')[3]), ['subscribe', 'unsubscribe', 'purge', 'publish', 'clear-retained', 'kick']);
    // Client text is quoted and escaped: one line each, the broker's own.
    assert.ok(audit[0]!.includes('client "au-\\"x\\n" channel "au/ch" by 127.0.0.1: subscribed, temporary'), audit[0]);
    assert.ok(audit.every((line) => !line.includes('\n') && / by 127\.0\.0\.1: /.test(line)));
    const metrics = await call('GET', '/metrics');
    for (const action of ['subscribe', 'unsubscribe', 'purge', 'publish', 'clear-retained', 'kick']) {
      assert.match(metrics.body, new RegExp(`jmqt_admin_actions_total\\{action="${action}"\\} [1-9]`), action);
    }
    assert.match(metrics.body, /jmqt_traced_messages \d+/);
    assert.ok((await call('GET', '/api/stats')).body.counters.adminActions.publish >= 1);
  });

  it('GET /api/events: recent events newest first, by client, bounded; the same events live on /api/events/live', async () => {
    const live = await LiveEvents.open(broker.ports.webSocket);
    const liveOne = await LiveEvents.open(broker.ports.webSocket, '/api/events/live?clientId=ev-one');
    try {
      await live.until((l) => l.messages.some((message) => message.hello), 'hello');
      const one = await client('ev-one', 'ws');
      await one.request({ pub: { cn: 'ev', dt: 1, id: 'y'.repeat(17) } }, 'pubAck', { st: 10 });
      await call('DELETE', '/api/clients/ev-one/session');
      await one.waitClosed();
      await waitFor(async () => (await call('GET', '/api/events?clientId=ev-one')).body.events.length >= 4, 'four events of ev-one');
      const { body } = await call('GET', '/api/events?clientId=ev-one');
      assert.deepEqual(body.events.map((event: any) => event.kind), ['admin', 'kick', 'limit', 'session-start']);
      const [admin, kick, limit, start] = body.events;
      assert.deepEqual([admin.action, admin.by, admin.clientId], ['kick', '127.0.0.1', 'ev-one']);
      assert.equal(kick.reason, 'kicked by operator');
      assert.equal(limit.key, 'MAX_ID_LENGTH');
      assert.deepEqual([start.transport, start.remoteHost, start.node], ['WEB_SOCKET', '127.0.0.1', broker.broker.router.nodeId]);
      assert.ok(body.events.every((event: any, i: number) => i === 0 || event.at <= body.events[i - 1].at), 'newest first');
      assert.equal((await call('GET', '/api/events?limit=2')).body.events.length, 2);
      // Live: the same events as they happened, oldest first; the filtered socket only ev-one's.
      await live.until((l) => l.events().some((event) => event.kind === 'admin' && event.clientId === 'ev-one'), 'the kick');
      const mine = live.events().filter((event) => event.clientId === 'ev-one').map((event) => event.kind);
      assert.deepEqual(mine, ['session-start', 'limit', 'kick', 'admin']);
      await liveOne.until((l) => l.events().length >= 4, 'four events');
      assert.ok(liveOne.events().every((event) => event.clientId === 'ev-one'));
    } finally {
      live.close();
      liveOne.close();
    }
  });
});
