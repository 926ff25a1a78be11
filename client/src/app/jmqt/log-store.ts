/**
 * A client tab's log: a bounded ring buffer of lines and a `version` signal
 * that the view follows. Thousands of lines a second must not mean thousands
 * of renders, so `version` moves at most once per `flushMs`.
 */
import { signal } from '@angular/core';
import { RingBuffer } from '../ui/ring-buffer';
import type { LogEntry, LogLine } from './log-line';

/** Lines kept per log; older ones are dropped. */
export const LOG_CAPACITY = 5000;

export class LogStore {
  private readonly lines: RingBuffer<LogLine>;
  private readonly versionValue = signal(0);
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Changes (at most once per flush interval) when lines were added or cleared. */
  readonly version = this.versionValue.asReadonly();

  constructor(
    capacity = LOG_CAPACITY,
    private readonly flushMs = 50,
    private readonly now: () => number = Date.now,
  ) {
    this.lines = new RingBuffer<LogLine>(capacity);
  }

  /** Lines pushed out by newer ones since the last clear. */
  get dropped(): number {
    return this.lines.dropped;
  }

  /** Sequence number of the newest line (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  add(entry: LogEntry): LogLine {
    const line: LogLine = { ...entry, seq: ++this.seq, at: this.now() };
    this.lines.push(line);
    this.schedule();
    return line;
  }

  /**
   * Rewrites the line numbered `seq` in place (same number and time), e.g. a
   * QoS 0 pub logged as sent that the broker then refused. The line is
   * replaced, not mutated, so a paused view keeps what it showed. False when
   * the line is gone (dropped or cleared).
   */
  update(seq: number, entry: LogEntry): boolean {
    const oldest = this.lines.at(0);
    if (!oldest) return false;
    // Lines are numbered one by one, so a line's place follows from its number.
    const index = seq - oldest.seq;
    const line = this.lines.at(index);
    if (!line || line.seq !== seq) return false;
    this.lines.set(index, { ...entry, seq, at: line.at });
    this.schedule();
    return true;
  }

  /** Oldest first. */
  snapshot(): LogLine[] {
    return this.lines.toArray();
  }

  clear(): void {
    this.lines.clear();
    this.flush();
  }

  /** Publishes pending lines to the view now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.versionValue.update((version) => version + 1);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.flushMs <= 0) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }
}
