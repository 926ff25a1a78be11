/**
 * Prometheus metrics (prom-client), one registry per broker so that several
 * brokers in one process (tests) do not share series. Hot-path counts stay
 * plain numbers in BrokerCounters and are read at scrape time.
 *
 * prom-client is loaded at the first scrape, not at start: a broker nobody
 * scrapes does not carry it (about 3 MB of idle RSS). Everything it shows
 * is read at scrape time anyway, except the storage latency histogram, which
 * counts its buckets itself (LatencyHistogram) from the start, and some of
 * prom-client's default process metrics, which count from the first scrape:
 * the CPU seconds counters (to Prometheus a counter reset, which rate()
 * takes in its stride), the event loop lag and GC histograms.
 */
import type * as Prom from 'prom-client';
import type { TransportName } from '../shared/keys';
import type { BrokerCounters } from './stats';
import type { Storage } from './storage/storage';

/** What the metrics read at scrape time. */
export interface MetricsSource {
  readonly counters: BrokerCounters;
  connectionsByTransport(): Record<TransportName, number>;
  readonly sessions: { readonly size: number };
  readonly index: { readonly size: number };
  readonly storage: Pick<Storage, 'stats'>;
  /** The admin API's trace: how many messages it remembers now. */
  readonly monitor: { readonly trace: { readonly size: number } };
}

/** Prometheus text exposition format 0.0.4, as prom-client's Registry answers it. */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A Prometheus histogram without labels, counted in plain numbers (hot path: one observe per QoS 1 publish). */
export class LatencyHistogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index >= 0) this.counts[index]! += 1;
  }

  /** The histogram as prom-client writes one: cumulative buckets, +Inf, sum, count. */
  text(): string {
    let cumulative = 0;
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((bound, index) => {
      cumulative += this.counts[index]!;
      lines.push(`${this.name}_bucket{le="${bound}"} ${cumulative}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n') + '\n';
  }
}

export class BrokerMetrics {
  /** Seconds from a QoS 1 publish handed to storage to its copies being durable. */
  readonly storageLatency = new LatencyHistogram(
    'jmqt_storage_enqueue_seconds',
    'Time for a QoS 1 publish to be durably stored',
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
  );
  private loaded: Promise<Prom.Registry> | null = null;
  /** What `/metrics` answers: its content type and text. prom-client is loaded at the first call of metrics(). */
  readonly registry = {
    contentType: CONTENT_TYPE,
    metrics: async (): Promise<string> => {
      const registry = await (this.loaded ??= import('prom-client').then((prom) => this.register(prom)));
      return `${this.storageLatency.text()}\n${await registry.metrics()}`;
    },
  };

  constructor(private readonly broker: MetricsSource) {}

  private register({ Counter, Gauge, Registry, collectDefaultMetrics }: typeof Prom): Prom.Registry {
    const broker = this.broker;
    const registry = new Registry();
    const registers = [registry];
    collectDefaultMetrics({ register: registry, prefix: 'jmqt_process_' });
    new Gauge({
      name: 'jmqt_connections', help: 'Open connections by transport', labelNames: ['transport'], registers,
      collect() {
        for (const [transport, count] of Object.entries(broker.connectionsByTransport())) this.set({ transport }, count);
      },
    });
    new Gauge({ name: 'jmqt_sessions', help: 'Sessions (connections past conn)', registers, collect() { this.set(broker.sessions.size); } });
    new Gauge({ name: 'jmqt_subscriptions', help: 'Subscriptions held', registers, collect() { this.set(broker.index.size); } });
    new Gauge({ name: 'jmqt_traced_messages', help: 'Messages the admin trace remembers (TRACE_MAX_MESSAGES)', registers, collect() { this.set(broker.monitor.trace.size); } });
    new Gauge({
      name: 'jmqt_qos1_queued', help: 'QoS 1 copies stored and not yet acknowledged', registers,
      async collect() { this.set((await broker.storage.stats()).queued); },
    });
    const counted = (name: string, help: string, read: () => number) => new Counter({
      name, help, registers,
      collect() { this.reset(); this.inc(read()); },
    });
    counted('jmqt_messages_in_total', 'Publishes accepted', () => broker.counters.messagesIn);
    counted('jmqt_pushes_delivered_total', 'Pushes written to subscribers', () => broker.counters.messagesOut);
    counted('jmqt_pushes_dropped_total', 'QoS 0 pushes dropped for a full outbound buffer', () => broker.counters.droppedPushes);
    counted('jmqt_pushes_deferred_total', 'QoS 1 pushes left in storage for a full outbound buffer', () => broker.counters.deferredPushes);
    counted('jmqt_clients_throttled_total', 'Times a client went over PUBLISH_RATE_MESSAGES or PUBLISH_RATE_BYTES', () => broker.counters.throttledClients);
    counted('jmqt_qos1_evicted_total', 'QoS 1 copies removed by QUEUE_POLICY drop-oldest', () => broker.counters.evictedCopies);
    counted('jmqt_clients_expired_total', 'Client ids whose persistent state expired (SESSION_EXPIRY_SECONDS)', () => broker.counters.expiredClients);
    counted('jmqt_late_hook_answers_total', 'Hook answers that arrived after their connection closed', () => broker.counters.lateHookAnswers);
    counted('jmqt_packets_dropped_total', 'Malformed or misdirected packets without an ack', () => broker.counters.droppedPackets);
    const byLabel = (name: string, help: string, label: string, read: () => Record<string, number>) => new Counter({
      name, help, labelNames: [label], registers,
      collect() {
        this.reset();
        for (const [value, count] of Object.entries(read())) this.inc({ [label]: value }, count);
      },
    });
    byLabel('jmqt_packets_in_total', 'Packets received by type', 'type', () => broker.counters.packetsInByType);
    byLabel('jmqt_packets_out_total', 'Packets sent by type', 'type', () => broker.counters.packetsOutByType);
    byLabel('jmqt_limit_hits_total', 'Times a configured limit was hit, by key', 'limit', () => broker.counters.limitHits);
    byLabel('jmqt_admin_actions_total', 'Operator actions through the admin API, by action', 'action', () => broker.counters.adminActions);
    return registry;
  }
}
