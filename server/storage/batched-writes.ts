/**
 * The writes of Storage, once for every backend: each becomes an op of the
 * tick's batch (write-ops.ts, tick-batch.ts), and a write with nothing to
 * write answers at once. SqliteStorage and MysqlStorage say only how to add
 * an op and whether they are open; how a batch is applied is theirs.
 */
import type { ExpiredClient, QueuedMessage, RetainedMessage, SubscriptionRecord } from './storage';
import type { WriteOp, WriteResults } from './write-ops';

export abstract class BatchedWrites {
  /** Whether the backend is open: writes before open() or after close() are refused. */
  protected abstract get writable(): boolean;
  /** Adds an op to the batch of this tick; resolves with its result once the batch is applied. */
  protected abstract addWrite<O extends WriteOp>(op: O): Promise<WriteResults[O['kind']]>;
  /** What a write to a backend that is not open is refused with. */
  protected abstract notOpen(): Error;

  subscribe(record: SubscriptionRecord): Promise<void> {
    return this.write({ kind: 'subscribe', record, at: Date.now() });
  }

  unsubscribe(clientId: string, channel: string): Promise<boolean> {
    return this.write({ kind: 'unsubscribe', clientId, channel });
  }

  removeTemporary(clientId: string): Promise<string[]> {
    return this.write({ kind: 'removeTemporary', clientId });
  }

  removeAllTemporary(): Promise<number> {
    return this.write({ kind: 'removeAllTemporary' });
  }

  /**
   * Resolves after the transaction holding these copies has committed. The
   * array is read when the batch is written (later in this tick), not copied.
   * A copy whose (clientId, id) is already queued is left as it was.
   */
  enqueue(messages: QueuedMessage[]): Promise<void> {
    if (messages.length === 0) return this.nothing(undefined);
    return this.write({ kind: 'enqueue', messages });
  }

  acknowledge(clientId: string, id: string): Promise<boolean> {
    return this.write({ kind: 'acknowledge', clientId, id });
  }

  dropOldest(clientId: string, count: number): Promise<number> {
    if (!(count >= 1)) return this.nothing(0);
    return this.write({ kind: 'dropOldest', clientId, count: Math.floor(count) });
  }

  retain(message: RetainedMessage): Promise<void> {
    return this.write({ kind: 'retain', message });
  }

  clearRetained(channel: string): Promise<void> {
    return this.write({ kind: 'clearRetained', channel });
  }

  /** The array is read when the batch is written, not copied. */
  touchClients(clientIds: string[], at: number): Promise<void> {
    if (clientIds.length === 0) return this.nothing(undefined);
    return this.write({ kind: 'touchClients', clientIds, at });
  }

  expireClients(before: number, limit: number): Promise<ExpiredClient[]> {
    if (!(limit >= 1)) return this.nothing([]);
    return this.write({ kind: 'expireClients', before, limit: Math.floor(limit) });
  }

  private write<O extends WriteOp>(op: O): Promise<WriteResults[O['kind']]> {
    if (!this.writable) return Promise.reject(this.notOpen());
    return this.addWrite(op);
  }

  /** The answer of a write that has nothing to write, once open. */
  private nothing<T>(value: T): Promise<T> {
    return this.writable ? Promise.resolve(value) : Promise.reject(this.notOpen());
  }
}
