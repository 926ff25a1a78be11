/** Specs of TokenConnectForm: prefilled from the last authAck, conn with what was pasted, its checks. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection } from '@angular/core';
import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { ClientSession } from '../jmqt/client-session';
import { LogStore } from '../jmqt/log-store';
import { fakeConnection } from '../jmqt/testing/fake-broker';
import { TokenConnectForm } from './token-connect-form';

@Component({
  imports: [TokenConnectForm],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<jmqt-token-connect-form [session]="session" [taken]="['bob']" />`,
})
class Host {
  readonly session = new ClientSession(2, 'Client 2', fakeConnection(), 'webclient2', { sampleMs: 0, log: new LogStore(100, 0) });
}

describe('TokenConnectForm', () => {
  let fixture: ComponentFixture<Host>;
  let element: HTMLElement;
  const field = (label: string) => {
    const found = Array.from(element.querySelectorAll('label')).find((each) => each.textContent!.trim() === label)!;
    return element.querySelector(`#${found.htmlFor}`) as HTMLInputElement;
  };
  const type = async (target: HTMLInputElement, value: string) => {
    target.value = value;
    target.dispatchEvent(new Event('input'));
    await fixture.whenStable();
  };
  const button = () => element.querySelector('button') as HTMLButtonElement;

  beforeEach(async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    fixture = TestBed.createComponent(Host);
    element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  });

  afterEach(() => fixture.componentInstance.session.destroy());

  it('is folded under "Connect with a client ID and token", with Client ID, Token and its button', () => {
    const details = element.querySelector('details')!;
    expect(details.open).toBeFalse();
    expect(details.querySelector('summary')!.textContent!.trim()).toBe('Connect with a client ID and token');
    expect(field('Client ID').value).toBe('webclient2');
    expect(field('Token').value).toBe('');
    expect(button().textContent!.trim()).toBe('Connect with token');
  });

  it('is prefilled with the last authAck and sends what was pasted, untrimmed', async () => {
    const { session } = fixture.componentInstance;
    session.lastAuthAck.set({ status: 1, clientId: 'alice', token: 'token-alice' });
    await fixture.whenStable();
    expect(field('Client ID').value).toBe('alice');
    expect(field('Token').value).toBe('token-alice');
    const connect = spyOn(session, 'connectWithToken').and.resolveTo(false);
    await type(field('Client ID'), 'mallory ');
    await type(field('Token'), 'forged.token');
    button().click();
    await fixture.whenStable();
    expect(connect).toHaveBeenCalledOnceWith('mallory ', 'forged.token');
  });

  it('refuses an empty client id and one in session in another tab', async () => {
    const connect = spyOn(fixture.componentInstance.session, 'connectWithToken');
    await type(field('Client ID'), ' ');
    button().click();
    await fixture.whenStable();
    expect(element.querySelector('.field-error')?.textContent).toBe('Please enter a client ID');
    expect(field('Client ID').getAttribute('aria-invalid')).toBe('true');
    await type(field('Client ID'), 'bob');
    button().click();
    await fixture.whenStable();
    expect(element.querySelector('.field-error')?.textContent).toBe("'bob' is connected in another tab");
    expect(connect).not.toHaveBeenCalled();
  });

  it('waits while the session connects', async () => {
    fixture.componentInstance.session.connecting.set(true);
    await fixture.whenStable();
    expect(button().disabled).toBeTrue();
  });

  it('shows a refused connAck by status name under the form', async () => {
    await type(field('Client ID'), 'dave');
    await type(field('Token'), 'forged');
    button().click();
    await fixture.whenStable();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await fixture.whenStable();
    expect(fixture.componentInstance.session.lastConnAck()).toEqual({ status: 6, ts: undefined });
    expect(element.querySelector('.field-error')?.textContent).toBe('connAck: Status INVALID_TOKEN (6)');
  });
});
