/**
 * Requests waiting for their ack. JMQT acks name no request, so they are
 * matched by key: `authAck`/`connAck` in order of sending, `subAck`/`unsubAck`
 * by channel (in order per channel), `pubAck` by the pub's `id` (protocol 3.7).
 */
import { JmqtError } from './errors';

interface Waiting {
  resolve(value: unknown): void;
  reject(error: JmqtError): void;
  timer: ReturnType<typeof setTimeout>;
  /** Timed out: kept only to swallow its late answer. */
  expired: boolean;
}

export class RequestTable {
  private readonly queues = new Map<string, Waiting[]>();

  /** @param timeoutMs how long a request waits for its answer. */
  constructor(private readonly timeoutMs: number) {}

  /** Requests still waiting for an answer (expired ones excluded). */
  get size(): number {
    let count = 0;
    for (const queue of this.queues.values()) for (const entry of queue) if (!entry.expired) count++;
    return count;
  }

  /**
   * Waits for the next answer under `key`. With `ordered`, a request that
   * timed out keeps its place so that its late answer is not taken for the
   * answer of the request sent after it; with unique keys (pub ids) it leaves.
   */
  wait<T>(key: string, ordered: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = {
        resolve: resolve as (value: unknown) => void,
        reject,
        expired: false,
        timer: setTimeout(() => {
          entry.expired = true;
          if (!ordered) this.remove(key, entry);
          reject(JmqtError.timeout(key, this.timeoutMs));
        }, this.timeoutMs),
      };
      const queue = this.queues.get(key);
      if (queue) queue.push(entry);
      else this.queues.set(key, [entry]);
    });
  }

  /** Hands an answer to the oldest request under `key`; false when none was waiting. */
  answer(key: string, value: unknown): boolean {
    const queue = this.queues.get(key);
    const entry = queue?.shift();
    if (!entry) return false;
    if (queue!.length === 0) this.queues.delete(key);
    clearTimeout(entry.timer);
    if (!entry.expired) entry.resolve(value);
    return true;
  }

  /** Rejects every waiting request, e.g. when the connection is gone. */
  rejectAll(error: JmqtError): void {
    const queues = [...this.queues.values()];
    this.queues.clear();
    for (const queue of queues) {
      for (const entry of queue) {
        clearTimeout(entry.timer);
        if (!entry.expired) entry.reject(error);
      }
    }
  }

  private remove(key: string, entry: Waiting): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    const index = queue.indexOf(entry);
    if (index !== -1) queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(key);
  }
}
