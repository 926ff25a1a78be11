/**
 * The clients of a `jmqt bench` run: opened one every --interval ms (auth +
 * conn each, the SDK over the chosen transport), counted as they connect,
 * fail or drop, and closed together at the end.
 */
import { performance } from 'node:perf_hooks';
import type { JmqtClient } from '../../shared/client/index';
import { authDataFrom, createClient, openSession, type ConnectionValues, type Target } from './connection';
import { CliError } from './errors';
import { LatencyRecorder } from './latency';

export interface BenchClient {
  readonly index: number;
  readonly client: JmqtClient;
  readonly clientId: string;
}

export interface FleetOptions {
  count: number;
  intervalMs: number;
  target: Target;
  values: ConnectionValues;
  requestTimeoutMs: number;
  /** Called as each client has its session (bench sub subscribes there); a throw counts the client as failed. */
  onSession?: (client: BenchClient) => Promise<void> | void;
}

/** What went wrong, by message, so that a thousand identical failures are one line. */
export class ErrorTally {
  private readonly byMessage = new Map<string, number>();
  total = 0;

  add(message: string): void {
    this.total += 1;
    this.byMessage.set(message, (this.byMessage.get(message) ?? 0) + 1);
  }

  /** The commonest messages, `3× connect ECONNREFUSED …`. */
  top(limit = 3): string[] {
    return [...this.byMessage.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([message, count]) => `${count}× ${message}`);
  }
}

export class Fleet {
  readonly clients: BenchClient[] = [];
  readonly connectLatency = new LatencyRecorder();
  readonly errors = new ErrorTally();
  failed = 0;
  /** Sessions that ended before the bench closed them. */
  dropped = 0;
  /** When the first attempt started and the last session opened, performance.now() ms. */
  startedAt = 0;
  lastConnectedAt = 0;
  private closing = false;
  private readonly all: JmqtClient[] = [];

  constructor(private readonly options: FleetOptions) {}

  get attempted(): number {
    return this.all.length;
  }

  /** Opens every client, paced; resolves when each has its session or has failed (or `stopped()` said so). */
  async open(stopped: () => boolean = () => false): Promise<void> {
    const { count, intervalMs } = this.options;
    this.startedAt = performance.now();
    const attempts: Array<Promise<void>> = [];
    for (let index = 0; index < count && !stopped(); index++) {
      if (index > 0 && intervalMs > 0) {
        const wait = this.startedAt + index * intervalMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      if (stopped()) break;
      attempts.push(this.openOne(index));
    }
    await Promise.all(attempts);
  }

  private async openOne(index: number): Promise<void> {
    const { target, values, requestTimeoutMs, onSession } = this.options;
    const client = createClient(target, requestTimeoutMs);
    this.all.push(client);
    const started = performance.now();
    try {
      const clientId = await openSession(client, target, authDataFrom(values, index));
      const connectedAt = performance.now();
      const member = { index, client, clientId };
      await onSession?.(member);
      this.lastConnectedAt = connectedAt;
      this.connectLatency.record(connectedAt - started);
      this.clients.push(member);
      client.on('disconnect', ({ reason }) => {
        if (this.closing) return;
        this.dropped += 1;
        this.errors.add(`disconnected: ${reason}`);
      });
    } catch (error) {
      this.failed += 1;
      this.errors.add(error instanceof CliError ? error.message : (error as Error).message);
      client.disconnect(false).catch(() => undefined);
    }
  }

  /** Ends every session (with disconn). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.all.map((client) => client.disconnect().catch(() => undefined)));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits `ms`, or less when `done()` turns true first (checked every 50 ms). */
export async function runFor(ms: number, done: () => boolean): Promise<void> {
  const until = performance.now() + ms;
  while (!done() && performance.now() < until) await sleep(Math.min(50, until - performance.now()));
}

/** A rate per second, with one decimal. */
export const perSecond = (count: number, ms: number) => (ms > 0 ? Math.round((count / ms) * 10_000) / 10 : 0);
