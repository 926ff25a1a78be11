/**
 * The well-behaved client that must not notice the attack: a subscriber and
 * a publisher (JMQT does not push a publisher its own messages), each with
 * auth → conn, the subscriber on a persistent channel; the publisher sends
 * QoS 1 pubs one at a time, both send hb continuously. It measures the hb and
 * pubAck round trips and checks that every acknowledged message arrives.
 * Runs in its own process (good-client-main.ts), so the fuzzer's busy event
 * loop does not count in its timings.
 */
import { performance } from 'node:perf_hooks';
import { openSession, sleep } from './attack';
import type { BrokerPorts } from './broker-process';
import { HB_ROUND_TRIP_LIMIT_MS, PUB_ACK_TIMEOUT_MS } from './bounds';
import { Latency, type LatencySummary } from './latency';
import { Link, type Transport } from './link';

export const GOOD_CHANNEL = 'good/steady';
/** The good client's own source address; attackers use the others, so per-address limits never refuse it. */
export const GOOD_ADDRESS = '127.0.0.1';
const HB_EVERY_MS = 250;
const PUB_EVERY_MS = 100;
/** An hb unanswered this long is given up (and counted as one round trip of this length), ms. */
const HB_GIVE_UP_MS = 10_000;

export interface GoodReport {
  hb: LatencySummary & { overLimit: number };
  pub: LatencySummary & { sent: number; acked: number; refused: Record<string, number>; timeouts: number };
  delivered: number;
  duplicates: number;
  /** Acknowledged messages not (yet) received, first few. */
  missing: number[];
  missingCount: number;
  /** Pushes of other channels (the sample application's presence on `update`). */
  otherPushes: number;
  disconnects: string[];
  errors: string[];
}

export class GoodClient {
  private readonly hb = new Latency();
  private readonly pubLatency = new Latency();
  private hbOverLimit = 0;
  private sent = 0;
  private readonly acked = new Set<number>();
  private readonly refused: Record<string, number> = {};
  private timeouts = 0;
  private readonly received = new Set<number>();
  private duplicates = 0;
  private otherPushes = 0;
  private readonly disconnects: string[] = [];
  private readonly errors: string[] = [];
  private publishing = true;
  private running = true;
  private readonly loops: Array<Promise<void>> = [];
  private links: Link[] = [];

  constructor(private readonly ports: BrokerPorts, private readonly transports: { sub: Transport; pub: Transport } = { sub: 'tcp', pub: 'ws' }) {}

  async start(): Promise<void> {
    const sub = await this.open(this.transports.sub, 'good-sub');
    sub.onPacket((text) => this.onSubscriberPacket(sub, text));
    const subAck = await sub.request(JSON.stringify({ sub: { cn: GOOD_CHANNEL, pr: 1 } }), (packet) => (packet['subAck'] ? Number(packet['subAck']['st']) : undefined));
    if (subAck !== 1) throw new Error(`good client: sub refused with ${subAck}`);
    const pub = await this.open(this.transports.pub, 'good-pub');
    this.loops.push(this.heartbeats(sub), this.heartbeats(pub), this.publish(pub));
  }

  /** Stops publishing, waits up to `graceMs` for every acknowledged message, then stops. */
  async finish(graceMs: number): Promise<GoodReport> {
    this.publishing = false;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && this.missing().length > 0) await sleep(50);
    this.running = false;
    await Promise.race([Promise.all(this.loops), sleep(HB_GIVE_UP_MS)]);
    for (const link of this.links) link.close();
    return this.report();
  }

  report(): GoodReport {
    const missing = this.missing();
    return {
      hb: { ...this.hb.summary(), overLimit: this.hbOverLimit },
      pub: { ...this.pubLatency.summary(), sent: this.sent, acked: this.acked.size, refused: { ...this.refused }, timeouts: this.timeouts },
      delivered: this.received.size,
      duplicates: this.duplicates,
      missing: missing.slice(0, 10),
      missingCount: missing.length,
      otherPushes: this.otherPushes,
      disconnects: [...this.disconnects],
      errors: [...this.errors],
    };
  }

  /** Keeps the first few errors; the rest are only counted. */
  private note(error: string): void {
    if (this.errors.length < 20) this.errors.push(error);
    else if (this.errors.length === 20) this.errors.push('(more errors left out)');
  }

  private missing(): number[] {
    return [...this.acked].filter((n) => !this.received.has(n));
  }

  private async open(transport: Transport, clientId: string): Promise<Link> {
    const link = await Link.open({ transport, port: this.ports[transport], localAddress: GOOD_ADDRESS });
    await openSession(link, clientId);
    this.links.push(link);
    link.end.then(({ closeCode }) => {
      if (this.running) this.disconnects.push(`${clientId} over ${transport} disconnected${closeCode ? ` (close ${closeCode})` : ''}`);
    });
    return link;
  }

  private onSubscriberPacket(link: Link, text: string): void {
    let packet: { push?: { cn?: unknown; dt?: unknown; q?: unknown; id?: unknown } };
    try {
      packet = JSON.parse(text);
    } catch {
      this.note(`subscriber got a packet that is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    const push = packet.push;
    if (!push) return;
    if (push.q === 1 && typeof push.id === 'string') link.sendText(JSON.stringify({ pushAck: { id: push.id, st: 1 } }));
    if (push.cn !== GOOD_CHANNEL) {
      this.otherPushes++;
      return;
    }
    const n = (push.dt as { n?: unknown } | null)?.n;
    if (typeof n !== 'number') {
      this.note(`push on ${GOOD_CHANNEL} without a number: ${text.slice(0, 80)}`);
      return;
    }
    if (this.received.has(n)) this.duplicates++;
    this.received.add(n);
  }

  private async heartbeats(link: Link): Promise<void> {
    while (this.running && !link.closed) {
      const started = performance.now();
      try {
        await link.request('{"hb":{}}', (packet) => (packet['hbAck'] ? true : undefined), HB_GIVE_UP_MS);
      } catch (error) {
        if (!this.running || link.closed) return;
        this.note(`hb: ${(error as Error).message}`);
      }
      const ms = performance.now() - started;
      this.hb.add(ms);
      if (ms > HB_ROUND_TRIP_LIMIT_MS) this.hbOverLimit++;
      await sleep(HB_EVERY_MS);
    }
  }

  private async publish(link: Link): Promise<void> {
    while (this.publishing && this.running && !link.closed) {
      const n = ++this.sent;
      const id = `g${n}`;
      const started = performance.now();
      try {
        const status = await link.request(JSON.stringify({ pub: { cn: GOOD_CHANNEL, dt: { n }, q: 1, id } }),
          (packet) => (packet['pubAck'] && packet['pubAck']['id'] === id ? Number(packet['pubAck']['st']) : undefined), PUB_ACK_TIMEOUT_MS);
        this.pubLatency.add(performance.now() - started);
        if (status === 1) this.acked.add(n);
        else this.refused[String(status)] = (this.refused[String(status)] ?? 0) + 1;
      } catch (error) {
        if (link.closed) return;
        this.timeouts++;
        this.note(`pub ${id}: ${(error as Error).message}`);
      }
      await sleep(PUB_EVERY_MS);
    }
  }
}
