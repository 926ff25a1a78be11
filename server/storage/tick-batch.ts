/**
 * The per-tick write batch SqliteStorage and MysqlStorage share: it gathers
 * the writes made within one event-loop tick, with their callers'
 * resolve/reject, and hands them in call order to the backend's `apply`,
 * which writes them in one transaction. Each caller then gets its own op's
 * result, or every caller of the batch the error. A backend only says how to
 * apply ops.
 *
 * One batch applies at a time. While one is applying (an async backend),
 * new writes gather into the next, which starts once the first has ended and
 * its own tick has passed. `flush()` starts the gathering batch without
 * waiting for the tick: a read calls it first, so it sees every earlier write.
 */

export interface TickBatchOptions<Op> {
  /**
   * Writes `ops` in one transaction and answers one result per op, in order.
   * Throwing or rejecting fails every op of the batch. A synchronous apply
   * keeps the whole batch synchronous: after `flush()` returns, it is written.
   */
  apply(ops: Op[]): unknown[] | Promise<unknown[]>;
  /**
   * Called when a batch opens (its first op arrives); the batch waits for the
   * answer before it applies. MysqlStorage answers its reads in flight, which
   * were made before this batch's writes and must not see them.
   */
  opened?(): Promise<unknown> | undefined;
}

interface Entry<Op> {
  op: Op;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Batch<Op> {
  entries: Entry<Op>[];
  gate: Promise<unknown> | undefined;
  done(): void;
}

/** `Results` maps each op kind to what its caller gets. */
export class TickBatch<Op extends { kind: keyof Results }, Results> {
  private gathering: Entry<Op>[] = [];
  private gate: Promise<unknown> | undefined;
  private timer: NodeJS.Immediate | undefined;
  /** The gathering batch's tick has passed: it starts as soon as none applies. */
  private due = false;
  private applying = false;
  /** Batches flushed while another was applying, in order. */
  private readonly sealed: Batch<Op>[] = [];
  /** Settles once every batch sealed so far has been applied or has failed. */
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly options: TickBatchOptions<Op>) {}

  /** Adds one op to the gathering batch; settles with its result once the batch is written. */
  add<O extends Op>(op: O): Promise<Results[O['kind']]> {
    return new Promise((resolve, reject) => {
      if (this.gathering.length === 0) {
        this.gate = this.options.opened?.();
        // setImmediate rather than a microtask: it runs after the poll phase,
        // so the batch also gathers the pubs of every socket read in this loop turn.
        this.timer = setImmediate(() => {
          this.timer = undefined;
          this.due = true;
          this.next();
        });
      }
      this.gathering.push({ op, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /**
   * Starts the gathering batch now, or right after the one applying. Settles
   * (never rejects) once every op added so far has been applied or has failed.
   */
  flush(): Promise<void> {
    this.seal();
    this.next();
    return this.last;
  }

  /** Closes the gathering batch: later ops go into another one. */
  private seal(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    this.due = false;
    if (this.gathering.length === 0) return;
    let done!: () => void;
    this.last = new Promise<void>((resolve) => (done = resolve));
    this.sealed.push({ entries: this.gathering, gate: this.gate, done });
    this.gathering = [];
    this.gate = undefined;
  }

  /** Starts the next batch when none applies. */
  private next(): void {
    if (this.applying) return;
    if (this.sealed.length === 0 && this.due) this.seal();
    const batch = this.sealed.shift();
    if (!batch) return;
    this.applying = true;
    if (batch.gate) void batch.gate.then(() => this.apply(batch), () => this.apply(batch));
    else this.apply(batch);
  }

  private apply(batch: Batch<Op>): void {
    const finish = (results: unknown[] | undefined, error?: unknown) => {
      batch.entries.forEach((entry, i) => (results ? entry.resolve(results[i]) : entry.reject(error)));
      batch.done();
      this.applying = false;
      this.next();
    };
    let results: unknown[] | Promise<unknown[]>;
    try {
      results = this.options.apply(batch.entries.map((entry) => entry.op));
    } catch (error) {
      finish(undefined, error);
      return;
    }
    if (results instanceof Promise) results.then((found) => finish(found), (error: unknown) => finish(undefined, error));
    else finish(results);
  }
}
