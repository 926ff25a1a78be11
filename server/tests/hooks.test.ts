import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestBroker, waitFor } from '../testing/harness';
import type { Application, Peer } from '../hooks';
import { Status } from '../../shared/status';

describe('application hooks (protocol 8)', () => {
  it('with no application no session opens: auth 7 with a reason, conn 6', async () => {
    const broker = await startTestBroker({}, {});
    try {
      const client = await RawClient.open('tcp', broker.ports.socket);
      const ack = await client.request({ auth: { dt: { client_name: 'x' } } }, 'authAck');
      assert.equal(ack['st'], 7);
      assert.ok(String(ack['mg']).length > 0);
      assert.deepEqual(await client.request({ conn: { at: 'x', cl: 'x' } }, 'connAck'), { st: 6 });
      client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('hooks get their arguments, may answer late, and a throw or a rejection answers 5', async () => {
    const calls: string[] = [];
    const seen = (name: string, peer: Peer) => calls.push(`${name}:${peer.clientId}:${peer.protocol}`);
    const application: Partial<Application> = {
      authenticate: async (data, peer) => {
        seen('auth', peer);
        if ((data as { fail?: string }).fail === 'throw') throw new Error('boom');
        return { status: Status.OK, clientId: 'h', token: 'tok' };
      },
      validateConnection: (clientId, token, peer) => {
        seen('conn', peer);
        return token === 'tok' ? Status.OK : Status.INVALID_TOKEN;
      },
      validateSubscription: (channel, persistent, peer) => {
        seen(`sub ${channel} ${persistent}`, peer);
        if (channel === 'explode') throw new Error('sub hook bug');
        return channel === 'secret' ? Status.NOT_ALLOWED : Status.OK;
      },
      validateUnsubscription: (channel, peer) => { seen(`unsub ${channel}`, peer); return Status.OK; },
      validatePublish: async (channel, data, qos, peer) => {
        seen(`pub ${channel} ${JSON.stringify(data)} ${qos}`, peer);
        await new Promise((resolve) => setTimeout(resolve, 20)); // a slow validator, answering after the next packet came
        if (channel === 'reject') throw new Error('pub hook bug');
        return Status.OK;
      },
      handleControl: (channel, data, peer) => {
        seen(`control ${channel}`, peer);
        return { status: Status.OK, data: { echo: data } };
      },
      onDisconnect: (peer) => seen('disconnect', peer),
      onConnectionClose: (peer) => seen('close', peer),
    };
    const broker = await startTestBroker({}, application);
    try {
      const client = await RawClient.open('ws', broker.ports.webSocket);
      assert.equal((await client.request({ auth: { dt: { fail: 'throw' } } }, 'authAck'))['st'], 5);
      assert.deepEqual(await client.request({ auth: { dt: {} } }, 'authAck'), { st: 1, at: 'tok', cl: 'h' });
      assert.deepEqual(await client.request({ conn: { at: 'tok', cl: 'h' } }, 'connAck'), { st: 1, ts: 15 });
      assert.deepEqual(await client.request({ sub: { cn: 'secret', pr: 1 } }, 'subAck'), { st: 7, cn: 'secret' });
      assert.deepEqual(await client.request({ sub: { cn: 'explode', pr: 0 } }, 'subAck'), { st: 5, cn: 'explode' });
      assert.deepEqual(await client.request({ sub: { cn: 'fine', pr: 0 } }, 'subAck'), { st: 1, cn: 'fine' });
      assert.deepEqual(await client.request({ unsub: { cn: 'fine' } }, 'unsubAck'), { st: 1, cn: 'fine' });
      assert.deepEqual(await client.request({ pub: { cn: 'reject', dt: 1, q: 1, id: 'r' } }, 'pubAck'), { st: 5, id: 'r' });
      // A slow validator still keeps the order of one client's packets.
      client.send({ pub: { cn: 'late', dt: { a: 1 }, q: 1, id: 'p' } });
      assert.deepEqual(await client.request({ hb: {} }, 'hbAck'), {});
      assert.ok(client.all('pubAck').some((ack) => ack['id'] === 'p'), 'pubAck came before the hbAck');
      assert.deepEqual(await client.request({ pub: { cn: '$echo', dt: [1], id: 'c' } }, 'pubAck'), { st: 1, id: 'c', dt: { echo: [1] } });
      client.send({ disconn: {} });
      await client.waitClosed();
      // The connection close notifier is the last hook of a connection.
      await waitFor(() => calls.includes('close:h:WEB_SOCKET'), 'the connection close notifier');
      assert.deepEqual(calls, [
        'auth::WEB_SOCKET', 'auth::WEB_SOCKET', 'conn::WEB_SOCKET', 'sub secret true:h:WEB_SOCKET', 'sub explode false:h:WEB_SOCKET',
        'sub fine false:h:WEB_SOCKET', 'unsub fine:h:WEB_SOCKET', 'pub reject 1 1:h:WEB_SOCKET', 'pub late {"a":1} 1:h:WEB_SOCKET',
        'control $echo:h:WEB_SOCKET', 'disconnect:h:WEB_SOCKET', 'close:h:WEB_SOCKET',
      ]);
    } finally {
      await broker.destroy();
    }
  });
});
