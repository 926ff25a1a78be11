/**
 * A client tab's log: newest line in view, Clear, Pause / Resume, a channel
 * filter, and a detail pane with the selected message's pretty-printed JSON.
 */
import { ChangeDetectionStrategy, Component, computed, input, signal, viewChild } from '@angular/core';
import type { LogLine } from '../jmqt/log-line';
import type { LogStore } from '../jmqt/log-store';
import { highlightJson } from './json-highlight';
import { VirtualList } from './virtual-list';

/** Height of one log row, px (the virtual list needs it fixed). */
const LOG_ROW_HEIGHT = 22;

/** Lines whose channel contains `filter` (case-insensitive); all lines when it is blank. */
export function filterByChannel(lines: readonly LogLine[], filter: string): readonly LogLine[] {
  const needle = filter.trim().toLowerCase();
  if (needle === '') return lines;
  return lines.filter((line) => line.channel !== undefined && line.channel.toLowerCase().includes(needle));
}

/** `hh:mm:ss.mmm` in local time. */
export function clockTime(at: number): string {
  const date = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

@Component({
  selector: 'jmqt-log-view',
  imports: [VirtualList],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './log-view.html',
  styleUrl: './log-view.css',
})
export class LogView {
  readonly store = input.required<LogStore>();
  /** Distinguishes the ids of several logs on one page. */
  readonly idPrefix = input('log');

  private readonly list = viewChild(VirtualList);
  protected readonly filter = signal('');
  /** Lines shown while paused; null when live. */
  private readonly frozen = signal<{ lines: LogLine[]; lastSeq: number } | null>(null);
  protected readonly selected = signal<LogLine | null>(null);
  protected readonly rowHeight = LOG_ROW_HEIGHT;

  protected readonly paused = computed(() => this.frozen() !== null);
  private readonly all = computed<readonly LogLine[]>(() => {
    const frozen = this.frozen();
    if (frozen) return frozen.lines;
    this.store().version();
    return this.store().snapshot();
  });
  protected readonly lines = computed(() => filterByChannel(this.all(), this.filter()));
  /** Lines that arrived since Pause. */
  protected readonly pending = computed(() => {
    const frozen = this.frozen();
    if (!frozen) return 0;
    this.store().version();
    return this.store().lastSeq - frozen.lastSeq;
  });
  protected readonly dropped = computed(() => {
    this.store().version();
    return this.store().dropped;
  });
  protected readonly detail = computed(() => {
    const line = this.selected();
    return line && line.data !== undefined ? highlightJson(line.data) : null;
  });
  protected readonly time = clockTime;

  protected clearLog(): void {
    this.store().clear();
    this.selected.set(null);
    if (this.frozen()) this.frozen.set({ lines: [], lastSeq: this.store().lastSeq });
  }

  protected togglePause(): void {
    if (this.frozen()) {
      this.frozen.set(null);
      this.list()?.scrollToBottom();
    } else {
      this.frozen.set({ lines: this.store().snapshot(), lastSeq: this.store().lastSeq });
    }
  }

  protected updateFilter(value: string): void {
    this.filter.set(value);
    this.list()?.scrollToBottom();
  }

  protected selectLine(line: LogLine): void {
    this.selected.set(this.selected()?.seq === line.seq ? null : line);
  }

  protected jumpToNewest(): void {
    this.list()?.scrollToBottom();
  }
}
