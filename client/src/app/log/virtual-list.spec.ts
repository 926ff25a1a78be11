/** Specs of VirtualList and its row range helpers: few rows in the DOM, following the newest. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection, signal, viewChild } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { bottomRange, visibleRange, VirtualList } from './virtual-list';

describe('visibleRange', () => {
  it('covers the viewport plus overscan', () => {
    // 100 px viewport, 20 px rows: rows 5..10 visible at scrollTop 100, +2 overscan each side.
    expect(visibleRange(100, 100, 20, 1000, 2)).toEqual({ start: 3, end: 13 });
  });

  it('is clamped to the list', () => {
    expect(visibleRange(0, 100, 20, 3, 5)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(-50, 100, 20, 0, 5)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(99_999, 100, 20, 10, 2)).toEqual({ start: 8, end: 10 });
  });

  it('bottomRange ends at the last row', () => {
    expect(bottomRange(100, 20, 5000, 2)).toEqual({ start: 4993, end: 5000 });
    expect(bottomRange(100, 20, 2, 2)).toEqual({ start: 0, end: 2 });
  });
});

@Component({
  imports: [VirtualList],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <jmqt-virtual-list style="height: 200px" [items]="items()" [rowHeight]="20" listRole="log" listLabel="Lines">
      <ng-template let-item let-index="index"><span class="cell">{{ index }}:{{ item }}</span></ng-template>
    </jmqt-virtual-list>
  `,
})
class Host {
  readonly items = signal<readonly string[]>(Array.from({ length: 5000 }, (_, i) => `item ${i}`));
  readonly list = viewChild.required(VirtualList);
}

describe('VirtualList', () => {
  async function render() {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    document.body.appendChild(fixture.nativeElement);
    await fixture.whenStable();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await fixture.whenStable();
    const element = fixture.nativeElement as HTMLElement;
    return { fixture, element, viewport: element.querySelector('.viewport') as HTMLElement, cells: () => Array.from(element.querySelectorAll('.cell')).map((cell) => cell.textContent) };
  }

  afterEach(() => document.querySelectorAll('jmqt-virtual-list').forEach((node) => node.parentElement?.remove()));

  it('renders only the rows in view, not all 5,000', async () => {
    const { cells, viewport } = await render();
    expect(cells().length).toBeGreaterThan(5);
    expect(cells().length).toBeLessThan(30);
    expect(viewport.getAttribute('role')).toBe('log');
    expect(viewport.getAttribute('aria-label')).toBe('Lines');
    expect(viewport.scrollHeight).toBe(5000 * 20);
  });

  it('follows the newest row while at the bottom', async () => {
    const { fixture, cells } = await render();
    expect(cells().at(-1)).toBe('4999:item 4999');
    fixture.componentInstance.items.update((items) => [...items, 'newest']);
    await fixture.whenStable();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await fixture.whenStable();
    expect(cells().at(-1)).toBe('5000:newest');
    expect(fixture.componentInstance.list().following()).toBeTrue();
  });

  it('stops following when scrolled up, and shows the rows scrolled to', async () => {
    const { fixture, viewport, cells } = await render();
    viewport.scrollTop = 1000; // row 50 at the top; the browser fires the scroll event
    await new Promise((resolve) => setTimeout(resolve, 50));
    await fixture.whenStable();
    expect(fixture.componentInstance.list().following()).toBeFalse();
    expect(cells()).toContain('50:item 50');
    fixture.componentInstance.items.update((items) => [...items, 'newest']);
    await fixture.whenStable();
    expect(cells()).toContain('50:item 50');
    expect(cells()).not.toContain('5000:newest');
    fixture.componentInstance.list().scrollToBottom();
    await fixture.whenStable();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(cells().at(-1)).toBe('5000:newest');
  });
});
