import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connectClient, RawClient, startTestBroker, TEST_SECRET } from '../testing/harness';
import { TokenSigner } from '../tokens';
import { isLoopback } from '../http/admin-auth';

describe('tokens: signed, bound to the client id, expiring', () => {
  const signer = new TokenSigner('secret', 60);

  it('verifies its own token for that client id only', () => {
    const token = signer.issue('alice');
    assert.equal(signer.verify(token, 'alice'), true);
    assert.equal(signer.verify(token, 'bob'), false);
    assert.equal(new TokenSigner('other secret', 60).verify(token, 'alice'), false);
  });

  it('refuses an expired token', () => {
    const token = signer.issue('alice', Date.now() - 61_000);
    assert.equal(signer.verify(token, 'alice'), false);
  });

  it('refuses a token whose body was changed (forged client id or expiry)', () => {
    const token = signer.issue('alice');
    const [body, signature] = token.split('.');
    const forged = Buffer.from(`${Math.floor(Date.now() / 1000) + 9999}.mallory`).toString('base64url');
    assert.equal(signer.verify(`${forged}.${signature}`, 'mallory'), false);
    assert.equal(signer.verify(`${body}.`, 'alice'), false);
    assert.equal(signer.verify('garbage', 'alice'), false);
    assert.equal(signer.verify('', 'alice'), false);
  });

  it('conn refuses forged, expired and foreign tokens with 6 on a live broker', async () => {
    const broker = await startTestBroker();
    try {
      const client = await RawClient.open('tcp', broker.ports.socket);
      const live = new TokenSigner(TEST_SECRET, 3600);
      const expired = live.issue('carol', Date.now() - 2 * 3600_000);
      assert.deepEqual(await client.request({ conn: { at: expired, cl: 'carol' } }, 'connAck'), { st: 6 });
      assert.deepEqual(await client.request({ conn: { at: live.issue('dave'), cl: 'carol' } }, 'connAck'), { st: 6 });
      assert.deepEqual(await client.request({ conn: { at: new TokenSigner('guess', 3600).issue('carol'), cl: 'carol' } }, 'connAck'), { st: 6 });
      assert.deepEqual(await client.request({ conn: { at: live.issue('carol'), cl: 'carol' } }, 'connAck'), { st: 1, ts: 15 });
      client.close();
    } finally {
      await broker.destroy();
    }
  });
});

describe('admin API', () => {
  it('with ADMIN_TOKEN: /api and /metrics need the bearer token; /api/health does not', async () => {
    const broker = await startTestBroker({ ADMIN_TOKEN: 'let-me-in' });
    const base = `http://127.0.0.1:${broker.ports.webSocket}`;
    try {
      assert.equal((await fetch(`${base}/api/health`)).status, 200);
      for (const path of ['/api/stats', '/api/clients', '/api/retained', '/metrics']) {
        const anonymous = await fetch(base + path);
        assert.equal(anonymous.status, 401, path);
        assert.match((await anonymous.json()).error, /admin token/);
        assert.equal((await fetch(base + path, { headers: { Authorization: 'Bearer wrong' } })).status, 401, path);
        assert.equal((await fetch(base + path, { headers: { Authorization: 'Bearer let-me-in' } })).status, 200, path);
      }
    } finally {
      await broker.destroy();
    }
  });

  it('without ADMIN_TOKEN the API answers loopback callers only', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(address), true, address);
    for (const address of ['10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', 'fe80::1', '']) assert.equal(isLoopback(address), false, address);
  });

  it('/metrics speaks Prometheus: connections, packets by type, pushes, queue depth, storage latency, limit hits', async () => {
    const broker = await startTestBroker({ MAX_CHANNEL_LENGTH: 16 });
    try {
      const sub = await connectClient(broker, 'm-sub', 'ws');
      const pub = await connectClient(broker, 'm-pub');
      await sub.request({ sub: { cn: 'm', pr: 1 } }, 'subAck', { st: 1 });
      await pub.request({ pub: { cn: 'm', dt: 1, q: 1, id: '1' } }, 'pubAck', { st: 1 });
      await pub.request({ pub: { cn: 'x'.repeat(20), dt: 1, id: '2' } }, 'pubAck', { st: 11 });
      const text = await (await fetch(`http://127.0.0.1:${broker.ports.webSocket}/metrics`)).text();
      for (const line of [
        'jmqt_connections{transport="WEB_SOCKET"} 1',
        'jmqt_connections{transport="SOCKET"} 1',
        'jmqt_packets_in_total{type="pub"} 2',
        'jmqt_packets_out_total{type="subAck"} 1',
        'jmqt_qos1_queued 1',
        'jmqt_storage_enqueue_seconds_count 1',
        'jmqt_limit_hits_total{limit="MAX_CHANNEL_LENGTH"} 1',
      ]) assert.ok(text.includes(line), `missing ${line}`);
      assert.match(text, /jmqt_pushes_delivered_total \d+/);
      assert.match(text, /jmqt_pushes_dropped_total 0/);
      sub.close();
      pub.close();
    } finally {
      await broker.destroy();
    }
  });

  it('WS_ALLOWED_ORIGINS: other origins cannot open a WebSocket', async () => {
    const broker = await startTestBroker({ WS_ALLOWED_ORIGINS: 'https://ops.example, http://localhost:4200' });
    const url = `ws://127.0.0.1:${broker.ports.webSocket}/`;
    const opens = (origin?: string) => new Promise<boolean>((resolve) => {
      const ws = new WebSocket(url, origin ? { origin } : {});
      ws.once('open', () => { ws.close(); resolve(true); });
      ws.once('error', () => resolve(false));
    });
    try {
      assert.equal(await opens('https://evil.example'), false);
      assert.equal(await opens(), false);
      assert.equal(await opens('https://ops.example'), true);
      assert.equal(await opens('http://localhost:4200'), true);
    } finally {
      await broker.destroy();
    }
  });
});
