/**
 * Graceful drain of one node (`POST /api/drain`, SIGUSR2), for rolling
 * restarts behind a load balancer (deploy/rolling-restart.ts):
 *
 * 1. at once: the node stops accepting (TCP listeners closed, so HAProxy's
 *    connects are refused and redispatched; WebSocket upgrades answered 503)
 *    and `/api/health` answers 503, so the load balancer marks it down;
 * 2. its sessions are closed in batches spread evenly over DRAIN_SECONDS,
 *    WebSocket ones with close code 4002 (DRAINING_CLOSE_CODE), which tells
 *    the SDK to reconnect at once: through the load balancer, to another
 *    node, where stored QoS 1 copies and persistent subscriptions wait;
 * 3. then the server closes as on SIGTERM (what is left of the connections,
 *    the cluster router, storage: pending writes are flushed first), and
 *    `finished` resolves: main.ts exits 0.
 *
 * Batches: one every `intervalMs` = DRAIN_SECONDS / batches, the first after
 * one interval and the last at DRAIN_SECONDS; at most one per 100 ms and no
 * more than there are sessions. After batch k of n, k/n of the sessions are
 * closed (rounded up), counting those that started during the drain (a `conn`
 * on a connection accepted before it), so they are spread over the rest of
 * the window too; the last batch closes whatever is left.
 */
import { DRAINING_REASON } from '../shared/keys';
import type { Connection } from './connection';
import type { Logger } from './log';

/** The smallest gap between two batches, ms. */
export const MIN_BATCH_INTERVAL_MS = 100;
/** How long closing the server (storage flush included) may take after the last batch, ms; then `finished` rejects. */
export const CLOSE_TIMEOUT_MS = 15_000;

export interface DrainPlan {
  state: 'draining' | 'done';
  node: string;
  /** Who asked: `SIGUSR2`, or the HTTP caller's address. */
  by: string;
  startedAt: string;
  drainSeconds: number;
  /** Sessions on the node when the drain started. */
  sessions: number;
  batches: number;
  intervalMs: number;
  /** Sessions per batch as planned (later arrivals are spread over the batches left). */
  batchSize: number;
  /** Sessions closed so far. */
  closed: number;
  /** When the last batch is due. */
  lastBatchAt: string;
}

/** What a drain needs of the running server (server.ts's RunningServer). */
export interface DrainTarget {
  readonly nodeId: string;
  /** Stops new connections and sessions; HTTP (health, API) keeps answering. */
  stopAccepting(): void;
  /** The live sessions. */
  sessions(): Iterable<Connection>;
  /** Ends what is left, waits for storage to be written and closes it. */
  close(): Promise<void>;
}

/** The drain as the HTTP app sees it. */
export interface DrainControl {
  readonly draining: boolean;
  /** The drain in progress or done, or null. */
  plan(): DrainPlan | null;
  /** Starts the drain, or answers the one already under way (a second call is harmless). */
  start(by: string): DrainPlan;
}

export class Drain implements DrainControl {
  private current: DrainPlan | null = null;
  private target: DrainTarget | null = null;
  private settle!: { resolve(): void; reject(error: Error): void };
  /** Resolves once a drain has closed the server; rejects when closing failed. */
  readonly finished: Promise<void> = new Promise((resolve, reject) => (this.settle = { resolve, reject }));

  constructor(
    private readonly seconds: number,
    private readonly log: Logger,
  ) {
    // Nobody need listen unless a drain starts.
    this.finished.catch(() => undefined);
  }

  /** server.ts hands the running server over once it is listening. */
  attach(target: DrainTarget): void {
    this.target = target;
  }

  get draining(): boolean {
    return this.current !== null;
  }

  plan(): DrainPlan | null {
    return this.current && { ...this.current };
  }

  start(by: string): DrainPlan {
    if (this.current) return this.plan()!;
    const target = this.target;
    if (!target) throw new Error('the server is not started yet');
    const windowMs = this.seconds * 1000;
    const live = [...target.sessions()].length;
    const batches = Math.max(1, Math.min(live, Math.floor(windowMs / MIN_BATCH_INTERVAL_MS)));
    const intervalMs = Math.round(windowMs / batches);
    const started = Date.now();
    this.current = {
      state: 'draining', node: target.nodeId, by, startedAt: new Date(started).toISOString(), drainSeconds: this.seconds,
      sessions: live, batches, intervalMs, batchSize: Math.ceil(live / batches), closed: 0,
      lastBatchAt: new Date(started + intervalMs * batches).toISOString(),
    };
    target.stopAccepting();
    this.log.info(`drain requested by ${by}: not accepting; /api/health answers 503; closing ${live} session(s) ` +
      `in ${batches} batch(es) every ${intervalMs} ms over ${this.seconds} s (close code 4002), then exiting`);
    void this.run(target, batches, intervalMs, started);
    return this.plan()!;
  }

  private async run(target: DrainTarget, batches: number, intervalMs: number, started: number): Promise<void> {
    const plan = this.current!;
    try {
      for (let batch = 1; batch <= batches; batch++) {
        const due = started + batch * intervalMs;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
        const live = [...target.sessions()].filter((connection) => !connection.drained);
        // Closed so far should be batch/batches of all sessions seen (those closed and those left).
        const goal = Math.ceil(((plan.closed + live.length) * batch) / batches);
        const count = batch === batches ? live.length : Math.min(live.length, Math.max(0, goal - plan.closed));
        for (const connection of live.slice(0, count)) {
          connection.drained = true;
          connection.close(DRAINING_REASON);
        }
        plan.closed += count;
        if (count > 0) this.log.debug(`drain: batch ${batch}/${batches} closed ${count} session(s), ${live.length - count} left`);
      }
      this.log.info(`drain: ${plan.closed} session(s) closed in ${((Date.now() - started) / 1000).toFixed(1)} s; closing the server and storage`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`closing took over ${CLOSE_TIMEOUT_MS} ms`)), CLOSE_TIMEOUT_MS);
      });
      await Promise.race([target.close(), late]).finally(() => clearTimeout(timer));
      plan.state = 'done';
      this.log.info('drain done: storage written and closed');
      this.settle.resolve();
    } catch (error) {
      this.log.error(`drain failed: ${(error as Error).stack ?? error}`);
      this.settle.reject(error as Error);
    }
  }
}
