import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connectClient, RawClient, startTestBroker, type TestBroker } from '../testing/harness';

describe('bad input: clear errors, no crash, other sessions undisturbed', () => {
  let broker: TestBroker;
  let good: RawClient;
  let listener: RawClient;
  before(async () => {
    broker = await startTestBroker({ MAX_PACKET_BYTES: 4096 });
    good = await connectClient(broker, 'good');
    listener = await connectClient(broker, 'listener');
    await listener.request({ sub: { cn: 'alive', pr: 0 } }, 'subAck', { st: 1 });
  });
  after(async () => {
    good.close();
    listener.close();
    await broker.destroy();
  });

  /** The well-behaved pair still publishes and receives. */
  async function stillWorks(tag: string): Promise<void> {
    const push = listener.next('push', { cn: 'alive', dt: tag });
    await good.request({ pub: { cn: 'alive', dt: tag, q: 1, id: tag } }, 'pubAck', { st: 1 });
    await push;
  }

  const acks: Array<[string, string, Record<string, unknown>]> = [
    ['{"auth":{}}', 'authAck', { st: 10 }],
    ['{"conn":{"at":"x"}}', 'connAck', { st: 10 }],
    ['{"sub":{"pr":1}}', 'subAck', { st: 10, cn: '' }],
    ['{"sub":{"cn":"  "}}', 'subAck', { st: 11, cn: '  ' }],
    ['{"unsub":{"cn":[]}}', 'unsubAck', { st: 10, cn: '' }],
    ['{"pub":{"cn":"a","dt":1,"q":7,"id":"bad-q"}}', 'pubAck', { st: 10, id: 'bad-q' }],
    ['{"pub":{"cn":"","dt":1,"id":"bad-cn"}}', 'pubAck', { st: 11, id: 'bad-cn' }],
    [`{"pub":{"cn":"a","id":"deep","dt":${'['.repeat(2000)}${']'.repeat(2000)}}}`, 'pubAck', { st: 10, id: 'deep' }],
    ['{"pub":{"cn":"a","id":"huge","dt":1e999999}}', 'pubAck', { st: 10, id: 'huge' }],
  ];
  for (const [text, type, expected] of acks) {
    it(`answers ${type} ${JSON.stringify(expected)} to ${text.slice(0, 50)}`, async () => {
      const client = await connectClient(broker, `bad-${type}-${expected['st']}-${expected['id'] ?? ''}`);
      const answer = client.next(type);
      client.sendRaw(text);
      const got = await answer;
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(got[key], value, key);
      if (type === 'authAck') assert.ok(String(got['mg']).length > 0);
      client.close();
    });
  }

  it('drops and counts malformed packets that have no ack, keeping the session', async () => {
    const client = await connectClient(broker, 'garbage');
    const before = broker.broker.counters.droppedPackets;
    for (const text of ['not json', '[]', '{}', '{"hb":{},"x":{}}', '{"nope":{}}', '{"push":{"cn":"a","dt":1,"cl":""}}', '{"pushAck":{}}', '', '{"pub":{"cn":"a","dt":1,"q":9}}']) {
      client.sendRaw(text);
    }
    await client.request({ hb: {} }, 'hbAck');
    assert.equal(broker.broker.counters.droppedPackets - before, 9);
    client.close();
    await stillWorks('after-garbage');
  });

  it('drops a TCP frame that is not UTF-8 and keeps the connection', async () => {
    const client = await connectClient(broker, 'latin1');
    const before = broker.broker.counters.invalidUtf8;
    client.rawSocket!.write(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x00]));
    await client.request({ hb: {} }, 'hbAck');
    assert.equal(broker.broker.counters.invalidUtf8 - before, 1);
    client.close();
  });

  it('closes a TCP connection whose frame passes MAX_PACKET_BYTES, even before its NUL', async () => {
    const client = await connectClient(broker, 'flooder');
    client.rawSocket!.write('{"pub":{"cn":"a","dt":"' + 'x'.repeat(10_000));
    await client.waitClosed();
    assert.ok(broker.broker.counters.oversizedFrames >= 1);
    await stillWorks('after-oversize');
  });

  it('closes a WebSocket whose message passes MAX_PACKET_BYTES', async () => {
    const client = await connectClient(broker, 'ws-flooder', 'ws');
    client.sendRaw('{"pub":{"cn":"a","dt":"' + 'x'.repeat(10_000) + '"}}');
    await client.waitClosed();
    await stillWorks('after-ws-oversize');
  });

  it('closes a WebSocket that sends invalid UTF-8 in a text message (RFC 6455 requires it)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${broker.ports.webSocket}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // A text frame whose payload is not UTF-8, written by hand around ws' own checks.
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]));
    assert.equal(await closed, 1007);
    await stillWorks('after-bad-utf8');
  });

  it('survives a burst of random bytes on many sockets', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.open('tcp', broker.ports.socket)));
    for (const client of clients) {
      for (let i = 0; i < 50; i++) {
        const bytes = Buffer.alloc(1 + Math.floor(Math.random() * 200));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(Math.random() * 256);
        client.rawSocket!.write(bytes);
      }
      client.rawSocket!.write('\0');
    }
    // Each socket's bytes are handled once it answers a barrier, or it was closed (a frame over MAX_PACKET_BYTES).
    await Promise.all(clients.map((client) => client.barrier({ beforeSession: true }).catch((error: Error) => {
      if (!client.closed) throw error;
    })));
    for (const client of clients) client.close();
    await stillWorks('after-random');
  });
});
