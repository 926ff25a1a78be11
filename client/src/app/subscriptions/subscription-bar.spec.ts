/** Specs of SubscriptionBar: the chips with their x, and the New Subscription form. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ClientSession } from '../jmqt/client-session';
import { LogStore } from '../jmqt/log-store';
import { fakeConnection } from '../jmqt/testing/fake-broker';
import { SubscriptionBar } from './subscription-bar';

@Component({
  imports: [SubscriptionBar],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<jmqt-subscription-bar [session]="session" />`,
})
class Host {
  readonly session = new ClientSession(1, 'Client 1', fakeConnection(), 'webclient', { sampleMs: 0, log: new LogStore(100, 0) });
}

describe('SubscriptionBar', () => {
  let host: Host;
  let element: HTMLElement;
  let settle: () => Promise<void>;

  beforeEach(async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    host = fixture.componentInstance;
    element = fixture.nativeElement as HTMLElement;
    settle = () => fixture.whenStable();
    host.session.subscriptions.set([
      { channel: '#webclient', kind: 'persistent' },
      { channel: 'mychannel', kind: 'temp' },
    ]);
    await settle();
  });

  afterEach(() => host.session.destroy());

  const button = (name: string) => Array.from(element.querySelectorAll('button')).find((node) => node.textContent?.trim() === name);
  const chips = () => Array.from(element.querySelectorAll('li.chip'));

  it('shows each subscription as `<channel> (<kind>)` with an x', () => {
    expect(chips().map((chip) => chip.querySelector('.chip-text')!.textContent!.trim())).toEqual(['#webclient (persistent)', 'mychannel (temp)']);
    expect(chips().every((chip) => chip.querySelector('button')!.textContent!.trim() === 'x')).toBeTrue();
  });

  it("a chip's x unsubscribes that channel", async () => {
    const unsubscribe = spyOn(host.session, 'unsubscribe').and.resolveTo(true);
    (chips()[1].querySelector('button') as HTMLButtonElement).click();
    await settle();
    expect(unsubscribe).toHaveBeenCalledOnceWith('mychannel');
  });

  it('+ New subscription opens the form; Cancel closes it', async () => {
    expect(element.querySelector('form')).toBeNull();
    button('+ New subscription')!.click();
    await settle();
    expect(element.querySelector('form')).not.toBeNull();
    expect(element.textContent).toContain('Channel Name');
    expect(button('+ New subscription')).toBeUndefined();
    button('Cancel')!.click();
    await settle();
    expect(element.querySelector('form')).toBeNull();
  });

  it('requires a channel name', async () => {
    const subscribe = spyOn(host.session, 'subscribe').and.resolveTo(true);
    button('+ New subscription')!.click();
    await settle();
    button('Subscribe')!.click();
    await settle();
    expect(subscribe).not.toHaveBeenCalled();
    expect(element.textContent).toContain('Please enter a channel name');
  });

  it('Subscribe sends the channel and the Persistent choice, then closes the form', async () => {
    const subscribe = spyOn(host.session, 'subscribe').and.resolveTo(true);
    button('+ New subscription')!.click();
    await settle();
    const input = element.querySelector('input[type="text"]') as HTMLInputElement;
    input.value = 'news';
    input.dispatchEvent(new Event('input'));
    (element.querySelector('input[type="checkbox"]') as HTMLInputElement).click();
    await settle();
    button('Subscribe')!.click();
    await settle();
    expect(subscribe).toHaveBeenCalledOnceWith('news', true);
    expect(element.querySelector('form')).toBeNull();
  });
});
