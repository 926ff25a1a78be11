/**
 * A fixed-row-height virtual list: only the rows in view (plus a few) are in
 * the DOM, so a 5,000-line log scrolls and updates as cheaply as a 40-line
 * one. While the view sits at the bottom it follows new rows; scrolling up
 * stops that until the user scrolls back down.
 *
 *     <jmqt-virtual-list [items]="lines" [rowHeight]="22">
 *       <ng-template let-line>{{ line.text }}</ng-template>
 *     </jmqt-virtual-list>
 */
import { NgTemplateOutlet } from '@angular/common';
import {
  afterNextRender, afterRenderEffect, ChangeDetectionStrategy, Component, computed, contentChild, DestroyRef, ElementRef,
  inject, input, signal, TemplateRef, viewChild,
} from '@angular/core';

export interface RowRange {
  /** First rendered index. */
  start: number;
  /** One past the last rendered index. */
  end: number;
}

/** Rows to render for a viewport scrolled to `scrollTop`, with `overscan` extra rows each side. */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, count: number, overscan: number): RowRange {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const rows = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first) - overscan);
  const end = Math.min(count, first + rows + overscan);
  return { start, end: Math.max(start, end) };
}

/** The rows of a viewport scrolled to the very bottom. */
export function bottomRange(viewportHeight: number, rowHeight: number, count: number, overscan: number): RowRange {
  return visibleRange(Math.max(0, count * rowHeight - viewportHeight), viewportHeight, rowHeight, count, overscan);
}

export interface RowContext<T> {
  $implicit: T;
  index: number;
}

@Component({
  selector: 'jmqt-virtual-list',
  imports: [NgTemplateOutlet],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div
      #viewport
      class="viewport"
      tabindex="0"
      [attr.role]="listRole()"
      [attr.aria-label]="listLabel()"
      (scroll)="onScroll()"
    >
      <div class="spacer" [style.height.px]="items().length * rowHeight()">
        <div class="rows" [style.transform]="'translateY(' + range().start * rowHeight() + 'px)'">
          @for (item of visible(); track range().start + $index) {
            <div class="row" [style.height.px]="rowHeight()">
              <ng-container *ngTemplateOutlet="row(); context: { $implicit: item, index: range().start + $index }" />
            </div>
          }
        </div>
      </div>
    </div>
  `,
  styles: `
    :host { display: block; position: relative; min-height: 0; }
    .viewport { height: 100%; overflow-y: auto; overflow-x: hidden; outline-offset: -2px; overscroll-behavior: contain; }
    .spacer { position: relative; }
    .rows { position: absolute; inset: 0 0 auto 0; will-change: transform; }
    .row { overflow: hidden; }
  `,
})
export class VirtualList<T> {
  readonly items = input.required<readonly T[]>();
  /** Height of every row, px. */
  readonly rowHeight = input(22);
  /** Rows rendered beyond each edge of the viewport. */
  readonly overscan = input(6);
  /** ARIA role of the scrolling element, e.g. `log`. */
  readonly listRole = input<string | null>(null);
  readonly listLabel = input<string | null>(null);

  protected readonly row = contentChild.required<TemplateRef<RowContext<T>>>(TemplateRef);
  private readonly viewport = viewChild.required<ElementRef<HTMLElement>>('viewport');
  private readonly scrollTop = signal(0);
  private readonly height = signal(0);
  /** At the bottom: new rows scroll into view. */
  readonly following = signal(true);

  protected readonly range = computed<RowRange>(() => {
    const count = this.items().length;
    return this.following()
      ? bottomRange(this.height(), this.rowHeight(), count, this.overscan())
      : visibleRange(this.scrollTop(), this.height(), this.rowHeight(), count, this.overscan());
  });
  protected readonly visible = computed(() => {
    const { start, end } = this.range();
    return this.items().slice(start, end);
  });

  constructor() {
    const destroyRef = inject(DestroyRef);
    afterNextRender(() => {
      const element = this.viewport().nativeElement;
      this.height.set(element.clientHeight);
      const observer = new ResizeObserver(() => this.height.set(element.clientHeight));
      observer.observe(element);
      destroyRef.onDestroy(() => observer.disconnect());
    });
    // Keep the newest row in view while following; the resulting scroll event keeps `following` true.
    afterRenderEffect({
      write: () => {
        this.items();
        this.height();
        if (!this.following()) return;
        const element = this.viewport().nativeElement;
        element.scrollTop = element.scrollHeight;
      },
    });
  }

  /** Jumps to the newest row and follows again. */
  scrollToBottom(): void {
    this.following.set(true);
  }

  protected onScroll(): void {
    const element = this.viewport().nativeElement;
    this.scrollTop.set(element.scrollTop);
    this.following.set(element.scrollTop + element.clientHeight >= element.scrollHeight - this.rowHeight() / 2);
  }
}
