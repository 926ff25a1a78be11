/**
 * The SDK against a real broker (startTestBroker: the sample application on
 * free ports) over every transport it offers: TCP and TLS (NodeSocketTransport),
 * WebSocket and TLS WebSocket (NodeWsTransport), and BrowserWebSocketTransport
 * over WebSocket with the `ws` package injected as the WebSocket class.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket as WsWebSocket } from 'ws';
import { makeCertificate } from '../../server/testing/certificate';
import { startTestBroker, type TestBroker } from '../../server/testing/harness';
import { Status } from '../status';
import { BrowserWebSocketTransport } from './browser-websocket-transport';
import { JmqtClient } from './jmqt-client';
import { NodeSocketTransport } from './node/socket-transport';
import { NodeWsTransport } from './node/ws-transport';
import type { Transport } from './transport';
import type { ClientState, DisconnectEvent, JmqtClientOptions, PushEvent } from './types';

type TransportKind = 'tcp' | 'tls' | 'ws' | 'wss' | 'browser-ws';

function makeTransport(kind: TransportKind, broker: TestBroker): Transport {
  const { socket, webSocket, sslSocket, sslWebSocket } = broker.ports;
  switch (kind) {
    case 'tcp':
      return new NodeSocketTransport({ host: '127.0.0.1', port: socket });
    case 'tls':
      return new NodeSocketTransport({ host: '127.0.0.1', port: sslSocket, tls: { rejectUnauthorized: false } });
    case 'ws':
      return new NodeWsTransport(`ws://127.0.0.1:${webSocket}/`);
    case 'wss':
      return new NodeWsTransport(`wss://127.0.0.1:${sslWebSocket}/`, { rejectUnauthorized: false });
    case 'browser-ws':
      return new BrowserWebSocketTransport(`ws://127.0.0.1:${webSocket}/`, { WebSocket: WsWebSocket as unknown as typeof WebSocket });
  }
}

/** A JmqtClient that records its pushes, states and disconnects. */
class Probe {
  readonly pushes: PushEvent[] = [];
  readonly states: ClientState[] = [];
  readonly disconnects: DisconnectEvent[] = [];
  readonly client: JmqtClient;

  constructor(transport: Transport, options: JmqtClientOptions = {}) {
    this.client = new JmqtClient(transport, { requestTimeoutMs: 3000, ...options });
    this.client.on('push', (push) => this.pushes.push(push));
    this.client.on('state', ({ state }) => this.states.push(state));
    this.client.on('disconnect', (event) => this.disconnects.push(event));
  }

  /** auth with client_name, then conn (protocol 9.1). */
  async login(name: string): Promise<void> {
    const auth = await this.client.auth({ client_name: name });
    assert.equal(auth.status, Status.OK, `auth of ${name}: ${JSON.stringify(auth)}`);
    assert.equal(auth.clientId, name);
    const conn = await this.client.conn(auth.clientId!, auth.token!);
    assert.equal(conn.status, Status.OK);
  }

  /** The first push (received so far or later) matching `match`. */
  async push(match: (push: PushEvent) => boolean, what: string, ms = 3000): Promise<PushEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.pushes.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no push ${what}; got ${JSON.stringify(this.pushes)}`);
      await pause(10);
    }
  }
}

/** Deep equality that ignores key order (the server lists channels in its own order). */
function sameJson(actual: unknown, expected: unknown): boolean {
  try {
    assert.deepEqual(actual, expected);
    return true;
  } catch {
    return false;
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(10);
  }
}

describe('SDK against a real broker', () => {
  let dir: string;
  let broker: TestBroker;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jmqt-sdk-'));
    const { cert, key } = makeCertificate(dir);
    broker = await startTestBroker({ ENABLE_SSL: true, SSL_CERT_PATH: cert, SSL_KEY_PATH: key });
  });

  after(async () => {
    await broker.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['tcp', 'tls', 'ws', 'wss', 'browser-ws'] as const) {
    it(`${kind}: auth, conn, sub, pub QoS 0 and 1 with pushAck, retained, P2P, $mySubscriptions, disconnect`, async () => {
      const a = new Probe(makeTransport(kind, broker));
      const b = new Probe(makeTransport(kind, broker));
      const alice = `alice-${kind}`;
      const bob = `bob-${kind}`;
      const channel = `news-${kind}`;
      try {
        await a.login(alice);
        await b.login(bob);
        assert.equal(a.client.state, 'session');
        assert.deepEqual(a.states.slice(0, 3), ['connecting', 'open', 'session']);
        assert.equal(a.client.clientId, alice);

        // Protocol 9.2: the sample application announces every session on `update`; alice sees bob come.
        const online = await a.push((push) => push.channel === 'update' && JSON.stringify(push.data) === JSON.stringify({ online: bob }), 'online');
        assert.equal(online.sender, '');

        assert.deepEqual(await b.client.sub(channel, true), { status: Status.OK, channel });
        assert.deepEqual(await b.client.sub(`${channel}-temp`), { status: Status.OK, channel: `${channel}-temp` });
        assert.equal((await b.client.sub('update')).status, Status.NOT_ALLOWED, 'update is the server\'s');
        assert.equal((await b.client.sub('#someone')).status, Status.INVALID_CHANNEL);

        // QoS 0: no pubAck, resolves once written.
        assert.deepEqual(await a.client.pub(channel, 'zero'), { status: Status.OK });
        const zero = await b.push((push) => push.data === 'zero', 'QoS 0');
        assert.deepEqual({ ...zero }, { channel, sender: alice, data: 'zero', qos: 0, retained: false, id: undefined });

        // QoS 1: pubAck with the pub's id; the push carries a server id and the SDK acks it.
        const ack = await a.client.pub(channel, { n: 1 }, { qos: 1 });
        assert.equal(ack.status, Status.OK);
        assert.ok(ack.id);
        const one = await b.push((push) => push.qos === 1 && push.channel === channel, 'QoS 1');
        assert.deepEqual(one.data, { n: 1 });
        assert.ok(one.id, 'a QoS 1 push has an id');
        await eventually(async () => (await broker.queuedFor(bob)) === 0, 'pushAck to delete the stored copy');

        // The publisher does not receive its own message (protocol 7.10).
        assert.equal(a.pushes.filter((push) => push.channel === channel).length, 0);

        // Retained: kept for the channel, pushed with rt on subscribe, no id.
        assert.equal((await a.client.pub(`${channel}-kept`, 'kept', { qos: 1, retain: true })).status, Status.OK);
        await b.client.sub(`${channel}-kept`);
        const kept = await b.push((push) => push.channel === `${channel}-kept`, 'retained');
        assert.deepEqual([kept.data, kept.retained, kept.qos, kept.id, kept.sender], ['kept', true, 0, undefined, alice]);

        // P2P: `#bob` reaches bob only; an offline target answers 8.
        assert.equal((await a.client.pub(`#${bob}`, 'psst', { qos: 1 })).status, Status.OK);
        const p2p = await b.push((push) => push.channel === `#${bob}`, 'P2P');
        assert.deepEqual([p2p.data, p2p.sender], ['psst', alice]);
        assert.equal((await a.client.pub(`#nobody-${kind}`, 'x', { qos: 1 })).status, Status.CLIENT_OFFLINE);

        // $mySubscriptions (protocol 6.5): every channel with its kind.
        const mine = await b.client.pub('$mySubscriptions', {});
        assert.equal(mine.status, Status.OK);
        assert.deepEqual(mine.data, {
          channels: {
            [`#${bob}`]: 'persistent',
            update: 'persistent',
            [channel]: 'persistent',
            [`${channel}-temp`]: 'temp',
            [`${channel}-kept`]: 'temp',
          },
        });

        assert.deepEqual(await b.client.unsub(`${channel}-temp`), { status: Status.OK, channel: `${channel}-temp` });

        // disconnect: disconn, closed, and the others hear `offline` on update.
        await b.client.disconnect();
        assert.equal(b.client.state, 'closed');
        assert.deepEqual(b.disconnects, [{ reason: 'client disconnect', willReconnect: false }]);
        await a.push((push) => push.channel === 'update' && JSON.stringify(push.data) === JSON.stringify({ offline: bob }), 'offline');
        await assert.rejects(b.client.pub(channel, 'late'), { status: Status.NETWORK_ERROR });
      } finally {
        await a.client.disconnect();
        await b.client.disconnect();
      }
    });
  }

  for (const kind of ['ws', 'browser-ws'] as const) {
    it(`${kind}: a session taken over by a newer one of its client id does not reconnect to take it back`, async () => {
      const older = new JmqtClient(makeTransport(kind, broker), { reconnect: { initialDelayMs: 50 } });
      const newer = new JmqtClient(makeTransport(kind, broker), { reconnect: { initialDelayMs: 50 } });
      const clientId = `twin-${kind}`;
      try {
        const first = await older.auth({ client_name: clientId });
        await older.conn(clientId, first.token!);
        const dropped = new Promise<DisconnectEvent>((resolve) => older.once('disconnect', resolve));
        const second = await newer.auth({ client_name: clientId });
        assert.equal((await newer.conn(clientId, second.token!)).status, Status.OK);
        const event = await dropped;
        assert.equal(event.willReconnect, false);
        assert.match(event.reason, /^taken over by a newer session \(code 4000/);
        // Time for the reconnect timer under test: six times its 50 ms delay, and older did not come back.
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(older.state, 'closed');
        assert.equal(newer.state, 'session');
      } finally {
        await older.disconnect(false);
        await newer.disconnect();
      }
    });
  }

  it('a QoS 0 pub given an id: refused on update, the refusal comes as a pubAck event; accepted, nothing comes', async () => {
    const probe = new Probe(makeTransport('ws', broker));
    await probe.login('quiet');
    const refusals: unknown[] = [];
    probe.client.on('pubAck', (event) => refusals.push(event));
    assert.deepEqual(await probe.client.pub('update', 'mine?', { id: 'q0-refused' }), { status: Status.OK, id: 'q0-refused' });
    assert.deepEqual(await probe.client.pub('news', 'fine', { id: 'q0-accepted' }), { status: Status.OK, id: 'q0-accepted' });
    // Answers leave in order (protocol 5.7): once this pubAck is in, the two before have been judged.
    assert.equal((await probe.client.pub('$mySubscriptions', {})).status, Status.OK);
    assert.deepEqual(refusals, [{ status: Status.NOT_ALLOWED, id: 'q0-refused', data: undefined }]);
    await probe.client.disconnect();
  });

  it('QoS 1 messages for a persistent subscriber that was away arrive when it comes back', async () => {
    const sub = new Probe(makeTransport('browser-ws', broker));
    await sub.login('away');
    await sub.client.sub('durable', true);
    await sub.client.disconnect();

    const pub = new Probe(makeTransport('tcp', broker));
    await pub.login('writer');
    for (const n of [1, 2, 3]) assert.equal((await pub.client.pub('durable', { n }, { qos: 1 })).status, Status.OK);
    assert.equal(await broker.queuedFor('away'), 3);

    const back = new Probe(makeTransport('ws', broker));
    await back.login('away');
    await eventually(() => back.pushes.filter((push) => push.channel === 'durable').length === 3, 'three queued messages');
    assert.deepEqual(back.pushes.filter((push) => push.channel === 'durable').map((push) => [push.data, push.qos]), [[{ n: 1 }, 1], [{ n: 2 }, 1], [{ n: 3 }, 1]]);
    await eventually(async () => (await broker.queuedFor('away')) === 0, 'pushAcks');
    await back.client.disconnect();
    await pub.client.disconnect();
  });
});

describe('reconnect after the broker restarts', () => {
  for (const kind of ['tcp', 'browser-ws'] as const) {
    it(`${kind}: the SDK re-auths, re-conns and renews temporary subscriptions`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'jmqt-sdk-restart-'));
      let broker = await startTestBroker({}, undefined, dir);
      const ports = { SOCKET_PORT: broker.ports.socket, WEBSOCKET_PORT: broker.ports.webSocket };
      const probe = new Probe(makeTransport(kind, broker), { reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 } });
      try {
        await probe.login('phoenix');
        await probe.client.sub('kept', true);
        await probe.client.sub('fleeting', false);

        await broker.close();
        await eventually(() => probe.disconnects.length === 1, 'the disconnect event');
        assert.equal(probe.disconnects[0].willReconnect, true);
        assert.ok(['reconnecting', 'connecting'].includes(probe.client.state));

        broker = await startTestBroker(ports, undefined, dir);
        await eventually(() => probe.client.state === 'session', 'the renewed session', 8000);
        let last: unknown = null;
        await eventually(async () => {
          const mine = await probe.client.pub('$mySubscriptions', {});
          last = mine.data;
          return sameJson(mine.data, { channels: { '#phoenix': 'persistent', update: 'persistent', kept: 'persistent', fleeting: 'temp' } });
        }, 'the temporary subscription to be renewed').catch((error: Error) => { throw new Error(`${error.message}: ${JSON.stringify(last)}`); });

        const other = new Probe(makeTransport('tcp', broker));
        await other.login(`other-${kind}`);
        await other.client.pub('kept', 'after restart', { qos: 1 });
        await other.client.pub('fleeting', 'temp too', { qos: 0 });
        await probe.push((push) => push.data === 'after restart', 'persistent channel after restart');
        await probe.push((push) => push.data === 'temp too', 'renewed temporary channel');
        await other.client.disconnect();
      } finally {
        await probe.client.disconnect();
        await broker.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
