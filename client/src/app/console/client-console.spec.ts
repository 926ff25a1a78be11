/** Specs of ClientConsole: Connect until connected, then the Publish row, chips and channel suggestions. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ClientSession } from '../jmqt/client-session';
import { LogStore } from '../jmqt/log-store';
import { fakeConnection } from '../jmqt/testing/fake-broker';
import { ClientConsole } from './client-console';

@Component({
  imports: [ClientConsole],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<jmqt-client-console [session]="session" [peers]="peers()" />`,
})
class Host {
  readonly session = new ClientSession(1, 'Client 1', fakeConnection(), 'webclient', { sampleMs: 0, log: new LogStore(100, 0) });
  readonly peers = signal<readonly string[]>(['bob']);
}

describe('ClientConsole', () => {
  it('shows Connect until connected, then the Publish row, chips and log', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    const element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    expect(element.querySelector('jmqt-connect-form')).not.toBeNull();
    expect(element.querySelector('jmqt-token-connect-form')).not.toBeNull();
    expect(element.querySelector('jmqt-publish-form')).toBeNull();
    expect(element.querySelector('jmqt-auth-ack-view')).toBeNull();
    expect(element.querySelector('jmqt-log-view')).not.toBeNull();

    const { session, peers } = fixture.componentInstance;
    await session.connect('alice');
    peers.set(['alice', 'bob']);
    await fixture.whenStable();
    expect(element.querySelector('jmqt-connect-form')).toBeNull();
    expect(element.querySelector('jmqt-token-connect-form')).toBeNull();
    expect(element.querySelector('jmqt-publish-form')).not.toBeNull();
    expect(element.querySelector('jmqt-auth-ack-view')!.textContent).toContain('token-alice');
    expect(element.querySelectorAll('li.chip').length).toBe(2);
    const options = Array.from(element.querySelectorAll('datalist option')).map((option) => (option as HTMLOptionElement).value);
    expect(options).toEqual(['update', '#bob', '$mySubscriptions']);
    session.destroy();
  });

  it('refuses a client name that another tab is connected with', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    const element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    const connect = spyOn(fixture.componentInstance.session, 'connect');
    const input = element.querySelector('jmqt-connect-form input') as HTMLInputElement;
    input.value = 'bob';
    input.dispatchEvent(new Event('input'));
    (element.querySelector('jmqt-connect-form button') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(connect).not.toHaveBeenCalled();
    expect(element.querySelector('.field-error')!.textContent).toBe("'bob' is connected in another tab");
    fixture.componentInstance.session.destroy();
  });
});
