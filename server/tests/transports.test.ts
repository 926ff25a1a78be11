import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connectClient, RawClient, startTestBroker, type TestBroker, type Transport } from '../testing/harness';
import { makeCertificate } from '../testing/certificate';

describe('transports: TCP, WebSocket, TLS socket and TLS WebSocket (protocol 1)', () => {
  let broker: TestBroker;
  let certDir: string;
  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'jmqt-cert-'));
    const { cert, key } = makeCertificate(certDir);
    broker = await startTestBroker({ ENABLE_SSL: true, SSL_CERT_PATH: cert, SSL_KEY_PATH: key });
  });
  after(async () => {
    await broker.destroy();
    rmSync(certDir, { recursive: true, force: true });
  });

  const transports: Transport[] = ['tcp', 'ws', 'tls', 'wss'];
  for (const from of transports) {
    for (const to of transports) {
      it(`delivers from ${from} to ${to}`, async () => {
        const sub = await connectClient(broker, `sub-${from}-${to}`, to);
        const pub = await connectClient(broker, `pub-${from}-${to}`, from);
        await sub.request({ sub: { cn: `t-${from}-${to}`, pr: 0 } }, 'subAck', { st: 1 });
        const push = sub.next('push', { cn: `t-${from}-${to}` });
        await pub.request({ pub: { cn: `t-${from}-${to}`, dt: { from, to }, q: 1, id: '1' } }, 'pubAck', { st: 1 });
        assert.deepEqual((await push)['dt'], { from, to });
        sub.close();
        pub.close();
      });
    }
  }

  it('hooks see the transport name of each session', async () => {
    const client = await connectClient(broker, 'named', 'wss');
    assert.equal(broker.broker.sessions.get('named')?.protocol, 'SSL_WEB_SOCKET');
    client.close();
  });

  it('TCP: packets split across writes and several packets in one write are framed right', async () => {
    const client = await RawClient.open('tcp', broker.ports.socket);
    const answers = client.next('authAck');
    const socket = client.rawSocket!;
    socket.write('{"auth":{"dt":{"client_');
    await RawClient.pause(50); // so the two halves reach the broker as separate reads
    socket.write('name":"split"}}}\0{"auth":{"dt":{"client_name":"two"}}}\0');
    assert.equal((await answers)['cl'], 'split');
    assert.equal((await client.seen('authAck', { cl: 'two' }))['st'], 1);
    client.close();
  });

  it('WebSocket: a trailing NUL inside a message is tolerated, and /ws is accepted too', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${broker.ports.webSocket}/ws`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const answer = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    ws.send('{"auth":{"dt":{"client_name":"nul"}}}\0');
    assert.equal(JSON.parse(await answer).authAck.cl, 'nul');
    ws.close();
  });

  it('WebSocket: other paths are refused', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${broker.ports.webSocket}/elsewhere`);
    await assert.rejects(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }));
  });

  it('serves /api/health and /api/stats on the WebSocket port', async () => {
    const health = await fetch(`http://127.0.0.1:${broker.ports.webSocket}/api/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, 'ok');
    const client = await connectClient(broker, 'counted', 'ws');
    const stats = await (await fetch(`http://127.0.0.1:${broker.ports.webSocket}/api/stats`)).json();
    assert.ok(stats.connections.byTransport.WEB_SOCKET >= 1);
    for (const key of ['subscriptions', 'retained', 'queuedQos1']) assert.equal(typeof stats[key], 'number', key);
    assert.equal(typeof stats.messages.in, 'number');
    const clients = await (await fetch(`http://127.0.0.1:${broker.ports.webSocket}/api/clients`)).json();
    assert.ok(clients.clients.some((entry: { clientId: string; transport: string }) => entry.clientId === 'counted' && entry.transport === 'WEB_SOCKET'));
    const missing = await fetch(`http://127.0.0.1:${broker.ports.webSocket}/api/nothing`);
    assert.equal(missing.status, 404);
    client.close();
  });
});
