/** Specs of JmqtService and the JmqtConnection it makes: signals, promise methods and events over a FakeBroker. */
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import type { DisconnectEvent, PushEvent } from '../../../../shared/client';
import { BrokerAddress, PAGE_LOCATION } from './broker-address';
import type { JmqtConnection } from './jmqt-connection';
import { JMQT_CLIENT_OPTIONS, JMQT_TRANSPORT_FACTORY, JmqtService } from './jmqt.service';
import { FakeBroker, until } from './testing/fake-broker';

describe('JmqtService', () => {
  let broker: FakeBroker;
  let service: JmqtService;
  /** The connection most tests drive, as a client tab would get it. */
  let client: JmqtConnection;

  beforeEach(() => {
    localStorage.clear();
    broker = new FakeBroker();
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        { provide: PAGE_LOCATION, useValue: { host: 'broker.test:8011', protocol: 'http:', port: '8011' } },
        { provide: JMQT_TRANSPORT_FACTORY, useValue: broker.factory },
        { provide: JMQT_CLIENT_OPTIONS, useValue: { requestTimeoutMs: 500 } },
      ],
    });
    service = TestBed.inject(JmqtService);
    client = service.createClient();
  });

  afterEach(() => client.destroy());

  async function connect(name = 'webclient') {
    const auth = await client.auth({ client_name: name });
    return client.conn(auth.clientId!, auth.token!);
  }

  it('starts closed, with no client id', () => {
    expect(client.state()).toBe('closed');
    expect(client.clientId()).toBeNull();
  });

  it('auth then conn opens a session: state, client id and ts as signals', async () => {
    const answer = await connect();
    expect(answer.status).toBe(1);
    expect(client.state()).toBe('session');
    expect(client.clientId()).toBe('webclient');
    expect(client.timeoutSeconds()).toBe(15);
    expect(broker.urls).toEqual(['ws://broker.test:8011/']);
    expect(broker.last.sentOf('auth')).toEqual([{ dt: { client_name: 'webclient' } }]);
    expect(broker.last.sentOf('conn')).toEqual([{ at: 'token-webclient', cl: 'webclient' }]);
  });

  it('a refused auth resolves with its status and message', async () => {
    const auth = await client.auth({ client_name: ' ' });
    expect(auth.status).toBe(10);
    expect(auth.message).toContain('client_name');
    expect(client.state()).toBe('open');
  });

  it('sub, unsub and pub resolve with their acks', async () => {
    await connect();
    expect(await client.sub('news', true)).toEqual({ status: 1, channel: 'news' });
    expect(broker.last.sentOf('sub')).toEqual([{ cn: 'news', pr: 1 }]);
    const pubAck = await client.pub('news', { n: 1 }, { qos: 1, retain: true });
    expect(pubAck.status).toBe(1);
    const [pub] = broker.last.sentOf('pub');
    expect(pub).toEqual(jasmine.objectContaining({ cn: 'news', dt: { n: 1 }, q: 1, rt: 1 }));
    expect(await client.unsub('news')).toEqual({ status: 1, channel: 'news' });
  });

  it('reports a refusal as a status, not an error', async () => {
    await connect();
    broker.refuse.set('update', 7);
    expect((await client.sub('update')).status).toBe(7);
    expect((await client.pub('update', 'x', { qos: 1 })).status).toBe(7);
  });

  it('$mySubscriptions answers the channels with their kind', async () => {
    await connect();
    await client.sub('temp-one', false);
    const answer = await client.subscriptions();
    expect(answer.status).toBe(1);
    expect(answer.channels).toEqual({ '#webclient': 'persistent', update: 'persistent', 'temp-one': 'temp' });
  });

  it('push$ emits pushes; a QoS 1 push is acknowledged with its id', async () => {
    await connect();
    const pushes: PushEvent[] = [];
    const subscription = client.push$.subscribe((push) => pushes.push(push));
    broker.last.deliver({ push: { cn: 'news', dt: 'hi', cl: '', q: 1, id: 'p1' } });
    broker.last.deliver({ push: { cn: 'news', dt: { a: 1 }, cl: 'other', rt: 1 } });
    await until(() => pushes.length === 2);
    expect(pushes[0]).toEqual(jasmine.objectContaining({ channel: 'news', sender: '', data: 'hi', qos: 1, id: 'p1', retained: false }));
    expect(pushes[1]).toEqual(jasmine.objectContaining({ sender: 'other', qos: 0, retained: true }));
    await until(() => broker.last.sentOf('pushAck').length === 1);
    expect(broker.last.sentOf('pushAck')).toEqual([{ id: 'p1', st: 1 }]);
    subscription.unsubscribe();
  });

  it('disconnect$ emits when the server drops the link, and the state follows', async () => {
    await connect();
    const events: DisconnectEvent[] = [];
    client.disconnect$.subscribe((event) => events.push(event));
    broker.last.drop();
    expect(events).toEqual([{ reason: 'connection closed by server', willReconnect: false }]);
    expect(client.state()).toBe('closed');
  });

  it('disconnect() sends disconn and closes', async () => {
    await connect();
    await client.disconnect();
    expect(broker.last.sentOf('disconn')).toEqual([{}]);
    expect(client.state()).toBe('closed');
  });

  it('records the time of the last packet and of the last hbAck', async () => {
    await connect();
    expect(client.lastPacketAt()).not.toBeNull();
    expect(client.lastHeartbeatAt()).toBeNull();
    broker.last.deliver({ hbAck: {} });
    await until(() => client.lastHeartbeatAt() !== null);
    expect(client.lastHeartbeatAt()).toBeGreaterThanOrEqual(client.lastPacketAt()! - 5);
  });

  it('requests without a connection reject with a network error (status 9)', async () => {
    await expectAsync(client.sub('news')).toBeRejectedWith(jasmine.objectContaining({ status: 9, code: 'network' }));
    await expectAsync(client.pub('news', 1)).toBeRejectedWith(jasmine.objectContaining({ status: 9 }));
  });

  it('an unreachable broker rejects auth with a network error and ends closed', async () => {
    broker.reachable = false;
    await expectAsync(client.auth({ client_name: 'x' })).toBeRejectedWith(jasmine.objectContaining({ status: 9 }));
    expect(client.state()).toBe('closed');
  });

  it('createClient makes independent connections, each with its own transport and signals', async () => {
    const alice = service.createClient();
    const bob = service.createClient();
    const aliceAuth = await alice.auth({ client_name: 'alice' });
    await alice.conn(aliceAuth.clientId!, aliceAuth.token!);
    expect(alice.state()).toBe('session');
    expect(bob.state()).toBe('closed');
    const bobAuth = await bob.auth({ client_name: 'bob' });
    await bob.conn(bobAuth.clientId!, bobAuth.token!);
    expect([alice.clientId(), bob.clientId()]).toEqual(['alice', 'bob']);
    expect(broker.transports.length).toBe(2);

    const seen: string[] = [];
    alice.push$.subscribe((push) => seen.push(`alice:${String(push.data)}`));
    bob.push$.subscribe((push) => seen.push(`bob:${String(push.data)}`));
    broker.transports[1].deliver({ push: { cn: '#bob', dt: 'for bob', cl: 'alice' } });
    await until(() => seen.length === 1);
    expect(seen).toEqual(['bob:for bob']);
    await alice.disconnect();
    expect(alice.state()).toBe('closed');
    expect(bob.state()).toBe('session');
    alice.destroy();
    bob.destroy();
  });

  it('a connect after a close uses a fresh transport to the current address', async () => {
    await connect();
    await client.disconnect();
    TestBed.inject(BrokerAddress).set('other.test:9011', true);
    await connect();
    expect(broker.urls).toEqual(['ws://broker.test:8011/', 'wss://other.test:9011/']);
    expect(client.url()).toBe('wss://other.test:9011/');
  });

  it('counts pushes for the rate meter', async () => {
    await connect();
    broker.last.deliver({ push: { cn: 'a', dt: 1, cl: '' } });
    broker.last.deliver({ push: { cn: 'a', dt: 2, cl: '' } });
    await until(() => client.pushCount === 2);
    expect(client.pushCount).toBe(2);
  });
});
