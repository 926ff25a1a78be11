import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, RawClient, startTestBroker, waitFor } from '../testing/harness';

describe('limits: each refused with a status or a close, counted and visible in /api/stats', () => {
  it('MAX_CHANNEL_LENGTH: longer channel names are refused with 11', async () => {
    const broker = await startTestBroker({ MAX_CHANNEL_LENGTH: 16 });
    try {
      const client = await connectClient(broker, 'long');
      const name = 'c'.repeat(17);
      assert.deepEqual(await client.request({ sub: { cn: name, pr: 0 } }, 'subAck'), { st: 11, cn: name });
      assert.deepEqual(await client.request({ pub: { cn: name, dt: 1, id: 'l' } }, 'pubAck'), { st: 11, id: 'l' });
      assert.deepEqual(await client.request({ sub: { cn: 'c'.repeat(16), pr: 0 } }, 'subAck'), { st: 1, cn: 'c'.repeat(16) });
      assert.equal(broker.broker.counters.limitHits['MAX_CHANNEL_LENGTH'], 2);
      client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('MAX_CLIENT_ID_LENGTH: a longer client id gets connAck 10', async () => {
    const broker = await startTestBroker({ MAX_CLIENT_ID_LENGTH: 8 });
    try {
      const client = await RawClient.open('tcp', broker.ports.socket);
      assert.deepEqual(await client.request({ conn: { at: broker.tokens.issue('ninechars'), cl: 'ninechars' } }, 'connAck'), { st: 10 });
      assert.deepEqual(await client.request({ conn: { at: broker.tokens.issue('eight888'), cl: 'eight888' } }, 'connAck'), { st: 1, ts: 15 });
      client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('MAX_SUBSCRIPTIONS_PER_CLIENT: one more is refused with 7, an existing one may be renewed', async () => {
    const broker = await startTestBroker({ MAX_SUBSCRIPTIONS_PER_CLIENT: 4 });
    try {
      const client = await connectClient(broker, 'hoarder'); // holds #hoarder and update already
      await client.request({ sub: { cn: 'one', pr: 0 } }, 'subAck', { st: 1 });
      await client.request({ sub: { cn: 'two', pr: 0 } }, 'subAck', { st: 1 });
      assert.deepEqual(await client.request({ sub: { cn: 'three', pr: 0 } }, 'subAck'), { st: 7, cn: 'three' });
      assert.deepEqual(await client.request({ sub: { cn: 'two', pr: 1 } }, 'subAck'), { st: 1, cn: 'two' });
      const stats = await (await fetch(`http://127.0.0.1:${broker.ports.webSocket}/api/stats`)).json();
      assert.equal(stats.counters.limitHits.MAX_SUBSCRIPTIONS_PER_CLIENT, 1);
      client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('MAX_CONNECTIONS_PER_ADDRESS: the connection past the limit is closed at once', async () => {
    const broker = await startTestBroker({ MAX_CONNECTIONS_PER_ADDRESS: 3 });
    try {
      const open = await Promise.all([1, 2, 3].map(() => RawClient.open('tcp', broker.ports.socket)));
      // Answered: the broker admitted and serves all three.
      await Promise.all(open.map((client) => client.barrier({ beforeSession: true })));
      const refused = await RawClient.open('tcp', broker.ports.socket);
      await refused.waitClosed(2000);
      open[0]!.close();
      await open[0]!.waitClosed();
      // Its place is given back when the broker's side of the socket closes, before the connection leaves the broker's set.
      await waitFor(() => broker.broker.connections.size === 2, 'the broker to see the close');
      const admitted = await RawClient.open('ws', broker.ports.webSocket);
      assert.equal((await admitted.request({ auth: { dt: { client_name: 'x' } } }, 'authAck'))['st'], 1);
      assert.equal(broker.broker.counters.limitHits['MAX_CONNECTIONS_PER_ADDRESS'], 1);
      for (const client of [...open, admitted]) client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('CONNECTION_RATE_PER_ADDRESS: a reconnect storm is cut off within the second', async () => {
    const broker = await startTestBroker({ CONNECTION_RATE_PER_ADDRESS: 5 });
    try {
      const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.open('tcp', broker.ports.socket)));
      // Each connection was either admitted (it answers a barrier) or closed by the broker.
      await Promise.all(clients.map((client) => client.barrier({ beforeSession: true }).catch((error: Error) => {
        if (!client.closed) throw error;
      })));
      assert.ok(clients.filter((client) => client.closed).length >= 3, 'connections past the rate are closed');
      assert.ok((broker.broker.counters.limitHits['CONNECTION_RATE_PER_ADDRESS'] ?? 0) >= 3);
      for (const client of clients) client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('CONNECT_TIMEOUT_SECONDS: a socket that talks but never opens a session is closed', async () => {
    const broker = await startTestBroker({ CONNECT_TIMEOUT_SECONDS: 1 });
    try {
      const client = await RawClient.open('tcp', broker.ports.socket);
      const chatter = setInterval(() => client.send({ auth: { dt: {} } }), 200);
      await client.waitClosed(4000);
      clearInterval(chatter);
      assert.equal(broker.broker.counters.limitHits['CONNECT_TIMEOUT_SECONDS'], 1);
      const prompt = await connectClient(broker, 'prompt');
      // Time passes beyond the 1 s connect deadline (the sweep runs once a second).
      await RawClient.pause(2200);
      assert.equal(prompt.closed, false, 'a session is not subject to the connect deadline');
      prompt.close();
    } finally {
      await broker.destroy();
    }
  });

  for (const policy of ['drop-oldest', 'reject-publisher'] as const) {
    it(`MAX_QUEUED_PER_CLIENT with ${policy}`, async () => {
      const broker = await startTestBroker({ MAX_QUEUED_PER_CLIENT: 3, QUEUE_POLICY: policy });
      try {
        const sub = await connectClient(broker, 'away');
        await sub.request({ sub: { cn: 'q', pr: 1 } }, 'subAck', { st: 1 });
        sub.send({ disconn: {} });
        await sub.waitClosed();
        const pub = await connectClient(broker, 'busy');
        const statuses = [];
        for (let n = 1; n <= 5; n++) statuses.push((await pub.request({ pub: { cn: 'q', dt: n, q: 1, id: String(n) } }, 'pubAck', { id: String(n) }))['st']);
        const back = await connectClient(broker, 'away');
        await back.seen('push', { cn: 'q', dt: policy === 'drop-oldest' ? 5 : 3 });
        // The conn is handled once the stored copies are replayed.
        await back.barrier();
        const delivered = back.all('push').filter((push) => push['cn'] === 'q').map((push) => push['dt']);
        if (policy === 'drop-oldest') {
          assert.deepEqual(statuses, [1, 1, 1, 1, 1]);
          assert.deepEqual(delivered, [3, 4, 5]);
        } else {
          assert.deepEqual(statuses, [1, 1, 1, 0, 0]);
          assert.deepEqual(delivered, [1, 2, 3]);
        }
        assert.equal(broker.broker.counters.limitHits['MAX_QUEUED_PER_CLIENT'], 2);
        back.close();
        pub.close();
      } finally {
        await broker.destroy();
      }
    });
  }
});
