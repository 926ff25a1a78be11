/** Specs of ConsolePage: client tabs, + Client, Side by side, closing a tab, tab names. */
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { PAGE_LOCATION } from '../jmqt/broker-address';
import { JMQT_CLIENT_OPTIONS, JMQT_TRANSPORT_FACTORY } from '../jmqt/jmqt.service';
import { FakeBroker } from '../jmqt/testing/fake-broker';
import { FETCH } from '../broker/broker-api';
import { ConsolePage, defaultClientName } from './console-page';

describe('ConsolePage', () => {
  let broker: FakeBroker;

  beforeEach(() => {
    localStorage.clear();
    broker = new FakeBroker();
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        { provide: PAGE_LOCATION, useValue: { host: 'b:8011', protocol: 'http:', port: '8011' } },
        { provide: JMQT_TRANSPORT_FACTORY, useValue: broker.factory },
        { provide: JMQT_CLIENT_OPTIONS, useValue: { requestTimeoutMs: 500 } },
        { provide: FETCH, useValue: (() => new Promise(() => undefined)) as unknown as typeof fetch },
      ],
    });
  });

  async function render() {
    const fixture = TestBed.createComponent(ConsolePage);
    await fixture.whenStable();
    const element = fixture.nativeElement as HTMLElement;
    const tabs = () => Array.from(element.querySelectorAll('[role="tab"]')) as HTMLElement[];
    const panels = () => Array.from(element.querySelectorAll('jmqt-client-console')) as HTMLElement[];
    const button = (name: string) => Array.from(element.querySelectorAll('button')).find((node) => node.textContent?.trim() === name)!;
    return { fixture, element, tabs, panels, button };
  }

  it('starts with one client tab named webclient', async () => {
    const { tabs, panels, element } = await render();
    expect(tabs().map((tab) => tab.textContent!.trim())).toEqual(['Client 1']);
    expect(tabs()[0].getAttribute('aria-selected')).toBe('true');
    expect(panels()[0].getAttribute('role')).toBe('tabpanel');
    expect(panels()[0].getAttribute('aria-label')).toBe('Client 1');
    expect((element.querySelector('jmqt-connect-form input') as HTMLInputElement).value).toBe('webclient');
  });

  it('+ Client adds an independent tab and selects it; only the selected panel shows', async () => {
    const { fixture, tabs, panels, button } = await render();
    button('+ Client').click();
    await fixture.whenStable();
    expect(tabs().length).toBe(2);
    expect(tabs()[1].getAttribute('aria-selected')).toBe('true');
    expect(panels().map((panel) => panel.hidden)).toEqual([true, false]);
    expect((panels()[1].querySelector('jmqt-connect-form input') as HTMLInputElement).value).toBe('webclient2');
    tabs()[0].click();
    await fixture.whenStable();
    expect(panels().map((panel) => panel.hidden)).toEqual([false, true]);
  });

  it('Side by side shows every client as a region', async () => {
    const { fixture, panels, button, element } = await render();
    button('+ Client').click();
    await fixture.whenStable();
    const toggle = Array.from(element.querySelectorAll('label.check')).find((label) => label.textContent!.includes('Side by side'))!.querySelector('input')!;
    toggle.click();
    await fixture.whenStable();
    expect(panels().map((panel) => [panel.hidden, panel.getAttribute('role')])).toEqual([
      [false, 'region'],
      [false, 'region'],
    ]);
  });

  it('closing a tab destroys its connection', async () => {
    const { fixture, tabs, element, button } = await render();
    button('+ Client').click();
    await fixture.whenStable();
    (element.querySelector('[aria-label="Close Client 2"]') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(tabs().map((tab) => tab.textContent!.trim())).toEqual(['Client 1']);
    expect(element.querySelector('[aria-label="Close Client 1"]')).toBeNull();
  });

  it('names tabs webclient, webclient2, …', () => {
    expect([1, 2, 3].map(defaultClientName)).toEqual(['webclient', 'webclient2', 'webclient3']);
  });
});
