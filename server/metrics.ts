/**
 * Prometheus metrics (prom-client), one registry per broker so that several
 * brokers in one process (tests) do not share series. Hot-path counts stay
 * plain numbers in BrokerCounters and are read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
}

export class BrokerMetrics {
  readonly registry = new Registry();
  /** Seconds from a QoS 1 publish handed to storage to its copies being durable. */
  readonly storageLatency = new Histogram({
    name: 'jmqt_storage_enqueue_seconds',
    help: 'Time for a QoS 1 publish to be durably stored',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  constructor(broker: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'jmqt_process_' });
    new Gauge({
      name: 'jmqt_connections', help: 'Open connections by transport', labelNames: ['transport'], registers,
      collect() {
        for (const [transport, count] of Object.entries(broker.connectionsByTransport())) this.set({ transport }, count);
      },
    });
    new Gauge({ name: 'jmqt_sessions', help: 'Sessions (connections past conn)', registers, collect() { this.set(broker.sessions.size); } });
    new Gauge({ name: 'jmqt_subscriptions', help: 'Subscriptions held', registers, collect() { this.set(broker.index.size); } });
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
  }
}
