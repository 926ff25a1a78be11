/**
 * Specs of ClientSession over a FakeBroker: connect (auth data, token), sub/unsub/pub,
 * QoS 0 pubs as sent and their refusals, pushes and disconnects as the log words them.
 */
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
      "authAck: Status OK (1), Client ID 'webclient', Token 'token-webclient'",
      'JMQT client authentication OK. Sending connect request..',
      'JMQT client connect OK.',
    ]);
    expect(broker.last.sentOf('auth')).toEqual([{ dt: { client_name: 'webclient' } }]);
    expect(session.lastAuthAck()).toEqual({ status: 1, token: 'token-webclient', clientId: 'webclient', message: undefined });
    expect(session.authName()).toBe('webclient');
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
    expect(session.log.snapshot().at(-1)!.data as unknown).toEqual({ authAck: { st: 10, mg: "auth data needs a non-empty 'client_name'" } });
    expect(session.lastAuthAck()).toEqual({ status: 10, token: undefined, clientId: undefined, message: "auth data needs a non-empty 'client_name'" });
    expect(session.connection.state()).toBe('closed');
    expect(session.active()).toBeFalse();
  });

  it('sends the auth data it is given, any JSON, and shows the whole authAck', async () => {
    expect(await session.connect('webclient', { client_name: 'carol', password: 'secret' })).toBeTrue();
    expect(broker.last.sentOf('auth')).toEqual([{ dt: { client_name: 'carol', password: 'secret' } }]);
    const authAck = session.log.snapshot()[1];
    expect(authAck.text).toBe("authAck: Status OK (1), Client ID 'carol', Token 'token-carol'");
    expect(authAck.kind).toBe('ok');
    expect(authAck.data as unknown).toEqual({ authAck: { st: 1, at: 'token-carol', cl: 'carol' } });
    expect(session.connection.clientId()).toBe('carol');
    expect(session.authName()).toBe('carol');
  });

  it('auth data without a client_name sends no name', async () => {
    expect(await session.connect('webclient', { token: 'jwt' })).toBeFalse();
    expect(broker.last.sentOf('auth')).toEqual([{ dt: { token: 'jwt' } }]);
  });

  it('connects with a given client id and token, skipping auth', async () => {
    expect(await session.connectWithToken('dave', 'token-dave')).toBeTrue();
    expect(texts()).toEqual(["Connecting JMQT client 'dave' with a given token..", 'JMQT client connect OK.']);
    expect(broker.last.sentOf('auth')).toEqual([]);
    expect(broker.last.sentOf('conn')).toEqual([{ at: 'token-dave', cl: 'dave' }]);
    expect(session.active()).toBeTrue();
    expect(session.authName()).toBeNull();
    expect(session.connecting()).toBeFalse();
  });

  it('a forged token is refused with 6, shown by name, and the link is dropped', async () => {
    expect(await session.connectWithToken('dave', 'token-mallory')).toBeFalse();
    expect(texts().at(-1)).toBe('JMQT client connect FAILED. Status INVALID_TOKEN (6)');
    expect(session.lastConnAck()).toEqual({ status: 6, ts: undefined });
    expect(session.log.snapshot().at(-1)!.kind).toBe('error');
    expect(session.connection.state()).toBe('closed');
    expect(session.active()).toBeFalse();
  });

  it('says busy while connecting and ignores a second connect meanwhile', async () => {
    const first = session.connect('webclient');
    expect(session.connecting()).toBeTrue();
    expect(await session.connectWithToken('dave', 'token-dave')).toBeFalse();
    expect(await first).toBeTrue();
    expect(session.connecting()).toBeFalse();
    expect(broker.transports.length).toBe(1);
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

  it('a QoS 0 pub carries an id and is logged as sent, not OK', async () => {
    await session.connect('webclient');
    expect(await session.publish(' news ', 'hi', { qos: 0, retain: false })).toBeTrue();
    const pub = broker.last.sentOf('pub').find((packet) => packet['cn'] === 'news')!;
    expect(pub).toEqual(jasmine.objectContaining({ cn: 'news', dt: 'hi', q: 0, rt: 0 }));
    expect(typeof pub['id']).toBe('string');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(texts().at(-1)).toBe('Publish to "news" sent (QoS 0).');
    expect(session.log.snapshot().at(-1)!.kind).toBe('info');
    expect(texts()).not.toContain('Publish to "news" OK.');
  });

  it('a refusal of a QoS 0 pub rewrites its sent line with the status name', async () => {
    await session.connect('webclient');
    broker.refuse.set('update', 7);
    const before = session.log.lastSeq;
    await session.publish('update', 'hi', { qos: 0 });
    await until(() => texts().at(-1) !== 'Publish to "update" sent (QoS 0).');
    const line = session.log.snapshot().at(-1)!;
    expect(line.text).toBe('Publish to "update" FAILED. Status NOT_ALLOWED (7).');
    expect(line.kind).toBe('error');
    expect(line.seq).toBe(before + 1);
    expect(session.log.lastSeq).toBe(before + 1);
  });

  it('a refusal that comes later, after other lines, still rewrites the right line', async () => {
    await session.connect('webclient');
    broker.refuse.set('#bob', 8);
    const refusals: Array<() => void> = [];
    const deliver = broker.last.deliver.bind(broker.last);
    spyOn(broker.last, 'deliver').and.callFake((packet) => (packet['pubAck'] ? refusals.push(() => deliver(packet)) : deliver(packet)));
    await session.publish('#bob', 'one', { qos: 0 });
    const { seq } = session.log.snapshot().at(-1)!;
    await session.publish('news', 'two', { qos: 0 });
    refusals.forEach((send) => send());
    await until(() => texts().includes('Publish to "#bob" FAILED. Status CLIENT_OFFLINE (8).'));
    expect(session.log.snapshot().find((line) => line.seq === seq)!.text).toBe('Publish to "#bob" FAILED. Status CLIENT_OFFLINE (8).');
    expect(texts().at(-1)).toBe('Publish to "news" sent (QoS 0).');
  });

  it('a refusal whose line was cleared gets a line of its own', async () => {
    await session.connect('webclient');
    broker.refuse.set('update', 7);
    const refusals: Array<() => void> = [];
    const deliver = broker.last.deliver.bind(broker.last);
    spyOn(broker.last, 'deliver').and.callFake((packet) => (packet['pubAck'] ? refusals.push(() => deliver(packet)) : deliver(packet)));
    await session.publish('update', 'hi', { qos: 0 });
    session.log.clear();
    refusals.forEach((send) => send());
    await until(() => texts().length === 1);
    expect(texts()).toEqual(['Publish to "update" FAILED. Status NOT_ALLOWED (7).']);
  });

  it('pubAcks of other ids are ignored', async () => {
    await session.connect('webclient');
    const count = texts().length;
    broker.last.deliver({ pubAck: { st: 7, id: 'not-ours' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(texts().length).toBe(count);
  });

  it('logs pushes in the original wording', async () => {
    await session.connect('webclient');
    broker.last.deliver({ push: { cn: 'update', dt: { offline: 'bob' }, cl: '' } });
    await until(() => texts().length === 5);
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
