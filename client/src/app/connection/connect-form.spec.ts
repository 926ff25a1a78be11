/** Specs of ConnectForm: validation of the Client Name and the connect it starts. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
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
  it('offers "Client Name" with the default name and a Connect button that connects', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    const element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    const label = element.querySelector('label')!;
    expect(label.textContent!.trim()).toBe('Client Name');
    const input = element.querySelector(`#${label.htmlFor}`) as HTMLInputElement;
    expect(input.value).toBe('webclient3');
    const connect = spyOn(fixture.componentInstance.session, 'connect').and.resolveTo(true);
    input.value = 'alice';
    input.dispatchEvent(new Event('input'));
    element.querySelector('button')!.click();
    await fixture.whenStable();
    expect(connect).toHaveBeenCalledOnceWith('alice');
    fixture.componentInstance.session.destroy();
  });

  it('refuses an empty name with the original message', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    const element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    const connect = spyOn(fixture.componentInstance.session, 'connect');
    const input = element.querySelector('input') as HTMLInputElement;
    input.value = '  ';
    input.dispatchEvent(new Event('input'));
    element.querySelector('button')!.click();
    await fixture.whenStable();
    expect(connect).not.toHaveBeenCalled();
    expect(element.querySelector('.field-error')?.textContent).toBe('Please enter Client name');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    fixture.componentInstance.session.destroy();
  });
});
