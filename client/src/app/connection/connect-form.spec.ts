/** Specs of ConnectForm: validation of the Client Name, the Auth data field, and the connect it starts. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection } from '@angular/core';
import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { ClientSession } from '../jmqt/client-session';
import { LogStore } from '../jmqt/log-store';
import { fakeConnection } from '../jmqt/testing/fake-broker';
import { ConnectForm } from './connect-form';

@Component({
  imports: [ConnectForm],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<jmqt-connect-form [session]="session" />`,
})
class Host {
  readonly session = new ClientSession(3, 'Client 3', fakeConnection(), 'webclient3', { sampleMs: 0, log: new LogStore(100, 0) });
}

describe('ConnectForm', () => {
  let fixture: ComponentFixture<Host>;
  let element: HTMLElement;
  const field = (label: string) => {
    const found = Array.from(element.querySelectorAll('label')).find((each) => each.textContent!.trim() === label)!;
    return element.querySelector(`#${found.htmlFor}`) as HTMLInputElement | HTMLTextAreaElement;
  };
  const type = async (target: HTMLInputElement | HTMLTextAreaElement, value: string) => {
    target.value = value;
    target.dispatchEvent(new Event('input'));
    await fixture.whenStable();
  };
  const connectButton = () => element.querySelector('button[type="submit"]') as HTMLButtonElement;

  beforeEach(async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    fixture = TestBed.createComponent(Host);
    element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  });

  afterEach(() => fixture.componentInstance.session.destroy());

  it('offers "Client Name" with the default name and a Connect button that connects', async () => {
    const label = element.querySelector('label')!;
    expect(label.textContent!.trim()).toBe('Client Name');
    const input = element.querySelector(`#${label.htmlFor}`) as HTMLInputElement;
    expect(input.value).toBe('webclient3');
    const connect = spyOn(fixture.componentInstance.session, 'connect').and.resolveTo(true);
    await type(input, 'alice');
    element.querySelector('button')!.click();
    await fixture.whenStable();
    expect(connect.calls.allArgs() as unknown).toEqual([['alice', { client_name: 'alice' }]]);
  });

  it('refuses an empty name with the original message', async () => {
    const connect = spyOn(fixture.componentInstance.session, 'connect');
    const input = element.querySelector('input') as HTMLInputElement;
    await type(input, '  ');
    element.querySelector('button')!.click();
    await fixture.whenStable();
    expect(connect).not.toHaveBeenCalled();
    expect(element.querySelector('.field-error')?.textContent).toBe('Please enter Client name');
    expect(input.getAttribute('aria-invalid')).toBe('true');
  });

  it('Auth data defaults to {"client_name": …} and follows the Client Name', async () => {
    const auth = field('Auth data');
    expect(auth.tagName).toBe('TEXTAREA');
    expect(auth.value).toBe('{"client_name": "webclient3"}');
    await type(field('Client Name'), ' carol ');
    expect(auth.value).toBe('{"client_name": "carol"}');
    expect(fixture.componentInstance.session.authText()).toBeNull();
  });

  it('sends edited auth data as JSON; a name change renames client_name in it, the rest kept', async () => {
    const connect = spyOn(fixture.componentInstance.session, 'connect').and.resolveTo(true);
    const auth = field('Auth data');
    await type(auth, '{"client_name": "webclient3", "password": "secret"}');
    await type(field('Client Name'), 'dave');
    expect(auth.value).toBe('{"client_name": "dave", "password": "secret"}');
    connectButton().click();
    await fixture.whenStable();
    expect(connect.calls.allArgs() as unknown).toEqual([['dave', { client_name: 'dave', password: 'secret' }]]);
  });

  it('keeps its own auth data in the session, so it outlives the form, and resets to the default', async () => {
    const { session } = fixture.componentInstance;
    await type(field('Auth data'), '{"token": "eyJ"}');
    expect(session.authText()).toBe('{"token": "eyJ"}');
    const reset = Array.from(element.querySelectorAll('button')).find((button) => button.textContent!.trim() === 'Reset to default')!;
    reset.click();
    await fixture.whenStable();
    expect(session.authText()).toBeNull();
    expect(field('Auth data').value).toBe('{"client_name": "webclient3"}');
  });

  it('invalid JSON shows an error at once and disables Connect', async () => {
    const connect = spyOn(fixture.componentInstance.session, 'connect');
    const auth = field('Auth data');
    await type(auth, '{"client_name": ');
    const error = element.querySelector(`#${auth.getAttribute('aria-describedby')} .field-error`);
    expect(error?.textContent).toMatch(/^Invalid JSON: /);
    expect(auth.getAttribute('aria-invalid')).toBe('true');
    expect(connectButton().disabled).toBeTrue();
    (element.querySelector('form') as HTMLFormElement).requestSubmit();
    await fixture.whenStable();
    expect(connect).not.toHaveBeenCalled();

    await type(auth, 'null');
    expect(connectButton().disabled).toBeFalse();
    expect(auth.getAttribute('aria-invalid')).toBe('false');
  });

  it('says Connecting… and waits while the session connects', async () => {
    fixture.componentInstance.session.connecting.set(true);
    await fixture.whenStable();
    expect(connectButton().textContent!.trim()).toBe('Connecting…');
    expect(connectButton().disabled).toBeTrue();
  });
});
