/** Specs of LogView (Clear, Pause/Resume, channel filter, detail pane) and its helpers. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { pushEntry } from '../jmqt/log-line';
import { LogStore } from '../jmqt/log-store';
import { clockTime, filterByChannel, LogView } from './log-view';

@Component({
  imports: [LogView],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<jmqt-log-view style="display: flex; height: 400px" [store]="store" />`,
})
class Host {
  readonly store = new LogStore(100, 0);
}

describe('LogView', () => {
  let host: Host;
  let element: HTMLElement;
  let settle: () => Promise<void>;

  beforeEach(async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    document.body.appendChild(fixture.nativeElement);
    host = fixture.componentInstance;
    element = fixture.nativeElement as HTMLElement;
    settle = async () => {
      await fixture.whenStable();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await fixture.whenStable();
    };
    await settle();
  });

  afterEach(() => element.remove());

  const texts = () => Array.from(element.querySelectorAll('.line .text')).map((node) => node.textContent?.trim());
  const button = (name: string) => Array.from(element.querySelectorAll('button')).find((node) => node.textContent?.trim() === name)!;

  it('says so when empty, then shows lines with a > prefix in a role=log region', async () => {
    expect(element.textContent).toContain('No messages yet');
    host.store.add(pushEntry({ channel: 'news', sender: 'alice', data: 'hi', qos: 1, retained: false }));
    await settle();
    expect(texts()).toEqual(["> Message on channel 'news' from 'alice' : hi (QOS 1, RETAIN 0)"]);
    expect(element.querySelector('[role="log"]')?.getAttribute('aria-label')).toBe('Log');
    expect(element.textContent).not.toContain('No messages yet');
  });

  it('Clear empties the log', async () => {
    host.store.add({ kind: 'info', text: 'one' });
    await settle();
    button('Clear').click();
    await settle();
    expect(texts()).toEqual([]);
    expect(host.store.snapshot().length).toBe(0);
  });

  it('Pause freezes the view and counts what waits; Resume shows it', async () => {
    host.store.add({ kind: 'info', text: 'before' });
    await settle();
    button('Pause').click();
    await settle();
    host.store.add({ kind: 'info', text: 'during 1' });
    host.store.add({ kind: 'info', text: 'during 2' });
    await settle();
    expect(texts()).toEqual(['> before']);
    expect(element.textContent).toContain('2 new lines waiting');
    expect(button('Resume').getAttribute('aria-pressed')).toBe('true');
    button('Resume').click();
    await settle();
    expect(texts()).toEqual(['> before', '> during 1', '> during 2']);
  });

  it('filters by channel', async () => {
    host.store.add({ kind: 'ok', text: 'Subscribe to "news" OK.', channel: 'news' });
    host.store.add({ kind: 'ok', text: 'Subscribe to "sport" OK.', channel: 'sport' });
    host.store.add({ kind: 'info', text: 'no channel' });
    await settle();
    const input = element.querySelector('input[type="search"]') as HTMLInputElement;
    input.value = 'SPO';
    input.dispatchEvent(new Event('input'));
    await settle();
    expect(texts()).toEqual(['> Subscribe to "sport" OK.']);
  });

  it('shows the selected message pretty-printed', async () => {
    host.store.add(pushEntry({ channel: 'news', sender: '', data: { a: [1, 2] }, qos: 0, retained: true }));
    await settle();
    (element.querySelector('.line') as HTMLElement).click();
    await settle();
    const detail = element.querySelector('[aria-label="Message detail"]');
    expect(detail).not.toBeNull();
    expect(detail!.querySelector('pre')!.textContent).toBe(JSON.stringify({ a: [1, 2] }, null, 2));
    expect(detail!.textContent).toContain('server');
  });

  it('stays small in the DOM with a full log', async () => {
    for (let i = 0; i < 250; i++) host.store.add({ kind: 'message', text: `line ${i}`, channel: 'c' });
    await settle();
    expect(host.store.snapshot().length).toBe(100);
    expect(element.querySelectorAll('.line').length).toBeLessThan(40);
    expect(texts().at(-1)).toBe('> line 249');
    expect(element.textContent).toContain('150 older dropped');
  });
});

describe('log helpers', () => {
  it('filterByChannel keeps every line for a blank filter', () => {
    const lines = [{ seq: 1, at: 0, kind: 'info' as const, text: 'x' }];
    expect(filterByChannel(lines, '  ')).toBe(lines);
  });

  it('clockTime pads to hh:mm:ss.mmm', () => {
    expect(clockTime(new Date(2020, 0, 1, 3, 4, 5, 6).getTime())).toBe('03:04:05.006');
  });
});
