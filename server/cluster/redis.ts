/**
 * Redis pub/sub bus: one channel for broadcasts and one per node. A command
 * issued while Redis is down waits for one reconnection attempt, then fails
 * (maxRetriesPerRequest 1), so callers get an error instead of a hang; the
 * subscriber connection reconnects and resubscribes by itself.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { BusHandler, BusMessage, ClusterBus } from './bus';

export interface RedisBusOptions {
  host: string;
  port: number;
  db: number;
  password?: string;
  /** Prefix of every channel, so several clusters can share one Redis. */
  prefix?: string;
}

export function redisOptions(options: RedisBusOptions): RedisOptions {
  return {
    host: options.host,
    port: options.port,
    db: options.db,
    password: options.password || undefined,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  };
}

export class RedisBus implements ClusterBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly broadcastChannel: string;
  private readonly prefix: string;
  private recoveredListeners: Array<() => void> = [];
  private wasDown = false;
  private stopped = false;

  constructor(readonly nodeId: string, options: RedisBusOptions) {
    this.prefix = options.prefix ?? 'jmqt';
    this.broadcastChannel = `${this.prefix}:all`;
    const connection = { ...redisOptions(options), lazyConnect: true };
    this.publisher = new Redis(connection);
    // The subscriber never gives up, so that its SUBSCRIBE survives any outage.
    this.subscriber = new Redis({ ...connection, maxRetriesPerRequest: null });
    for (const client of [this.publisher, this.subscriber]) client.on('error', () => undefined);
  }

  get healthy(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  async start(handler: BusHandler): Promise<void> {
    this.subscriber.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
      let envelope: { f: string; m: BusMessage };
      try {
        envelope = JSON.parse(payload.toString('utf8'));
      } catch {
        return;
      }
      if (envelope.f !== this.nodeId && !this.stopped) handler(envelope.m, envelope.f);
    });
    for (const client of [this.publisher, this.subscriber]) {
      client.on('close', () => { this.wasDown = true; });
      client.on('ready', () => {
        if (this.wasDown && this.healthy) {
          this.wasDown = false;
          for (const listener of this.recoveredListeners) listener();
        }
      });
    }
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(this.broadcastChannel, this.nodeChannel(this.nodeId));
  }

  broadcast(message: BusMessage): void {
    this.publish(this.broadcastChannel, message);
  }

  send(nodeId: string, message: BusMessage): void {
    this.publish(this.nodeChannel(nodeId), message);
  }

  onRecovered(listener: () => void): void {
    this.recoveredListeners.push(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.recoveredListeners = [];
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  private nodeChannel(nodeId: string): string {
    return `${this.prefix}:node:${nodeId}`;
  }

  private publish(channel: string, message: BusMessage): void {
    // Losing a bus message while Redis is down is covered elsewhere: QoS 1 copies
    // are in shared storage, and nodes resynchronise when the bus recovers.
    this.publisher.publish(channel, JSON.stringify({ f: this.nodeId, m: message })).catch(() => undefined);
  }
}
