/**
 * Test double for the SDK's Transport: a tiny in-memory JMQT broker that
 * answers like the sample application (auth by client_name, conn, sub,
 * unsub, pub as protocol 7.2 says, `$mySubscriptions`), records what the client sent, and lets a
 * test push packets or drop the link. For unit tests only.
 */
import { p2pChannel } from '../../../../../shared/channel';
import { TransportBase, type ConnectionSink } from '../../../../../shared/client';
import { JmqtConnection } from '../jmqt-connection';

type Packet = Record<string, Record<string, unknown>>;

export class FakeBroker {
  /** Every transport made, newest last. */
  readonly transports: FakeTransport[] = [];
  /** URLs asked for, in order. */
  readonly urls: string[] = [];
  /** Status answered to sub/unsub/pub on these channels (default 1). */
  readonly refuse = new Map<string, number>();
  /** When false, connect() fails (the broker is down). */
  reachable = true;
  readonly subscriptions = new Map<string, 'persistent' | 'temp'>();

  /** A TransportFactory for JMQT_TRANSPORT_FACTORY or JmqtConnection. */
  readonly factory = (url: string): FakeTransport => {
    this.urls.push(url);
    const transport = new FakeTransport(this);
    this.transports.push(transport);
    return transport;
  };

  get last(): FakeTransport {
    const transport = this.transports.at(-1);
    if (!transport) throw new Error('no transport made yet');
    return transport;
  }

  /** Answers one client packet the way the sample application does. */
  answer(transport: FakeTransport, packet: Packet): void {
    const [type] = Object.keys(packet);
    const body = packet[type];
    const reply = (out: Packet) => transport.deliver(out);
    switch (type) {
      case 'auth': {
        const name = (body['dt'] as Record<string, unknown> | null)?.['client_name'];
        if (typeof name === 'string' && name.trim() !== '') reply({ authAck: { st: 1, at: `token-${name}`, cl: name.trim() } });
        else reply({ authAck: { st: 10, mg: "auth data needs a non-empty 'client_name'" } });
        break;
      }
      case 'conn': {
        const ok = body['at'] === `token-${String(body['cl'])}`;
        if (ok) {
          this.subscriptions.set(p2pChannel(String(body['cl'])), 'persistent');
          this.subscriptions.set('update', 'persistent');
        }
        reply({ connAck: ok ? { st: 1, ts: 15 } : { st: 6 } });
        break;
      }
      case 'hb':
        reply({ hbAck: {} });
        break;
      case 'sub': {
        const channel = String(body['cn']);
        const st = this.refuse.get(channel) ?? 1;
        if (st === 1) this.subscriptions.set(channel, body['pr'] ? 'persistent' : 'temp');
        reply({ subAck: { st, cn: channel } });
        break;
      }
      case 'unsub': {
        const channel = String(body['cn']);
        const st = this.refuse.get(channel) ?? 1;
        if (st === 1) this.subscriptions.delete(channel);
        reply({ unsubAck: { st, cn: channel } });
        break;
      }
      case 'pub': {
        const channel = String(body['cn']);
        if (channel === '$mySubscriptions') {
          reply({ pubAck: { st: 1, id: body['id'], dt: { channels: Object.fromEntries(this.subscriptions) } } });
        } else if (body['id'] !== undefined) {
          // Protocol 7.2: a QoS 0 pub with an id is answered only when refused.
          const st = this.refuse.get(channel) ?? 1;
          if (body['q'] === 1 || st !== 1) reply({ pubAck: { st, id: body['id'] } });
        }
        break;
      }
    }
  }
}

export class FakeTransport extends TransportBase {
  /** Packets the client sent on this transport, parsed. */
  readonly sent: Packet[] = [];
  private sink: ConnectionSink | null = null;

  constructor(private readonly broker: FakeBroker) {
    super();
  }

  /** Packets of one type the client sent. */
  sentOf(type: string): Array<Record<string, unknown>> {
    return this.sent.filter((packet) => type in packet).map((packet) => packet[type]);
  }

  /** The server sends `packet` (asynchronously, as a socket would). */
  deliver(packet: Packet): void {
    const sink = this.sink;
    queueMicrotask(() => sink?.message(JSON.stringify(packet)));
  }

  /** The server drops the link. */
  drop(reason = 'connection closed by server'): void {
    const sink = this.sink;
    this.sink = null;
    sink?.close(reason);
  }

  protected start(sink: ConnectionSink): void {
    this.sink = sink;
    setTimeout(() => {
      if (this.sink !== sink) return;
      if (this.broker.reachable) sink.open();
      else {
        this.sink = null;
        sink.close('websocket closed (code 1006)');
      }
    });
  }

  protected stop(): void {
    this.sink = null;
  }

  protected write(text: string): Promise<void> {
    const packet = JSON.parse(text) as Packet;
    this.sent.push(packet);
    this.broker.answer(this, packet);
    return Promise.resolve();
  }
}

/** Resolves once `condition` holds, polling every few ms; fails after `ms`. */
export async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A JmqtConnection over a FakeBroker, without Angular DI. */
export function fakeConnection(broker = new FakeBroker()): JmqtConnection {
  return new JmqtConnection({ url: () => 'ws://broker.test/', transport: broker.factory, options: { requestTimeoutMs: 500 } });
}
