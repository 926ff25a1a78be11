/** Specs of ClientSession over a FakeBroker: connect, sub/unsub/pub, pushes and disconnects as the log words them. */
import { JmqtConnection } from './jmqt-connection';
import { FakeBroker, fakeConnection, until } from './testing/fake-broker';
import { LogStore } from './log-store';
import { ClientSession } from './client-session';

describe('ClientSession', () => {
  let broker: FakeBroker;
  let session: ClientSession;
  const texts = () => session.log.snapshot().map((line) => line.text);

  beforeEach(() => {
    broker = new FakeBroker();
    session = new ClientSession(1, 'Client 1', fakeConnection(broker), 'webclient', { sampleMs: 0, log: new LogStore(100, 0) });
  });

  afterEach(() => session.destroy());

  it('connects as the original page did and loads the chips from $mySubscriptions', async () => {
    expect(await session.connect(' webclient ')).toBeTrue();
    expect(texts()).toEqual([
      'Authenticating JMQT client..',
      'JMQT client authentication OK. Sending connect request..',
      'JMQT client connect OK.',
    ]);
    expect(session.active()).toBeTrue();
    expect(session.clientName()).toBe('webclient');
    expect(session.subscriptions()).toEqual([
      { channel: '#webclient', kind: 'persistent' },
      { channel: 'update', kind: 'persistent' },
    ]);
  });

  it('logs a refused auth with its status name and closes', async () => {
    expect(await session.connect('')).toBeFalse();
    expect(texts().at(-1)).toBe("JMQT client authentication FAILED. Status INVALID_PACKET (10), Message auth data needs a non-empty 'client_name'");
    expect(session.connection.state()).toBe('closed');
    expect(session.active()).toBeFalse();
  });

  it('logs an unreachable broker', async () => {
    broker.reachable = false;
    expect(await session.connect('webclient')).toBeFalse();
    expect(texts().at(-1)).toMatch(/^JMQT client connect FAILED\. Status NETWORK_ERROR \(9\)/);
  });

  it('subscribes and unsubscribes, logging each answer and refreshing the chips', async () => {
    await session.connect('webclient');
    expect(await session.subscribe('news', false)).toBeTrue();
    expect(texts()).toContain('Subscribe to "news" OK.');
    expect(session.subscriptions()).toContain({ channel: 'news', kind: 'temp' });
    expect(await session.unsubscribe('news')).toBeTrue();
    expect(texts()).toContain('Unsubscribe from "news" OK.');
    expect(session.subscriptions().map((chip) => chip.channel)).not.toContain('news');
  });

  it('logs refusals with the status name', async () => {
    await session.connect('webclient');
    broker.refuse.set('update', 7);
    expect(await session.unsubscribe('update')).toBeFalse();
    expect(texts()).toContain('Unsubscribe from "update" FAILED. Status NOT_ALLOWED (7).');
    broker.refuse.set('#bob', 8);
    expect(await session.publish('#bob', 'hi', { qos: 1, retain: false })).toBeFalse();
    expect(texts()).toContain('Publish to "#bob" FAILED. Status CLIENT_OFFLINE (8).');
  });

  it('publishes and logs OK; a control channel logs its response', async () => {
    await session.connect('webclient');
    expect(await session.publish('news', { a: 1 }, { qos: 1, retain: true })).toBeTrue();
    expect(texts()).toContain('Publish to "news" OK.');
    await session.publish('$mySubscriptions', {}, { qos: 1, retain: true });
    expect(texts().at(-1)).toBe('Publish to "$mySubscriptions" OK. Response: {"channels":{"#webclient":"persistent","update":"persistent"}}');
    const pub = broker.last.sentOf('pub').find((packet) => packet['cn'] === 'news');
    expect(pub).toEqual(jasmine.objectContaining({ cn: 'news', dt: { a: 1 }, q: 1, rt: 1 }));
  });

  it('logs pushes in the original wording', async () => {
    await session.connect('webclient');
    broker.last.deliver({ push: { cn: 'update', dt: { offline: 'bob' }, cl: '' } });
    await until(() => texts().length === 4);
    expect(texts().at(-1)).toBe(`Message on channel 'update' from 'server' : {"offline":"bob"} (QOS 0, RETAIN 0)`);
  });

  it('a failed request without a session is logged, not thrown', async () => {
    expect(await session.publish('news', 'x', { qos: 0 })).toBeFalse();
    expect(texts().at(-1)).toMatch(/^Publish to "news" FAILED\. Status NETWORK_ERROR \(9\)/);
  });

  it('disconnect sends disconn, logs it and clears the chips', async () => {
    await session.connect('webclient');
    await session.disconnect();
    expect(broker.last.sentOf('disconn').length).toBe(1);
    expect(texts().at(-1)).toBe('JMQT client disconnected.');
    expect(session.subscriptions()).toEqual([]);
    expect(session.active()).toBeFalse();
  });

  it('a dropped link is logged with its reason', async () => {
    await session.connect('webclient');
    broker.last.drop('connection closed by server');
    expect(texts().at(-1)).toBe('JMQT client disconnected: connection closed by server.');
    expect(session.active()).toBeFalse();
  });

  it('with reconnect, a dropped link is renewed by the SDK, logged, and the chips reloaded', async () => {
    const connection = new JmqtConnection({
      url: () => 'ws://broker.test/',
      transport: broker.factory,
      options: { requestTimeoutMs: 500, reconnect: { initialDelayMs: 10, maxDelayMs: 10, jitter: 0 } },
    });
    const renewing = new ClientSession(2, 'Client 2', connection, 'carol', { sampleMs: 0, log: new LogStore(100, 0) });
    const lines = () => renewing.log.snapshot().map((line) => line.text);
    await renewing.connect('carol');
    await renewing.subscribe('news', false);
    broker.subscriptions.clear(); // the broker forgot everything
    broker.last.drop('websocket closed (code 1006)');
    expect(lines().at(-1)).toBe('JMQT client disconnected: websocket closed (code 1006). Reconnecting..');
    expect(renewing.active()).toBeTrue();
    await until(() => lines().includes('JMQT client reconnected.'));
    await until(() => renewing.subscriptions().some((chip) => chip.channel === 'news'));
    expect(connection.state()).toBe('session');
    renewing.destroy();
  });
});
