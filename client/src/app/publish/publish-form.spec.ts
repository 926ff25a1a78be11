/** Specs of PublishForm: validation, QoS/Retain/JSON options, Send and Disconnect. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ClientSession } from '../jmqt/client-session';
import { LogStore } from '../jmqt/log-store';
import { fakeConnection } from '../jmqt/testing/fake-broker';
import { PublishForm } from './publish-form';

@Component({
  imports: [PublishForm],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<jmqt-publish-form [session]="session" [suggestions]="['news', '#bob', '$mySubscriptions']" />`,
})
class Host {
  readonly session = new ClientSession(1, 'Client 1', fakeConnection(), 'webclient', { sampleMs: 0, log: new LogStore(100, 0) });
}

describe('PublishForm', () => {
  let host: Host;
  let element: HTMLElement;
  let publish: jasmine.Spy;
  let settle: () => Promise<void>;

  beforeEach(async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    host = fixture.componentInstance;
    element = fixture.nativeElement as HTMLElement;
    settle = () => fixture.whenStable();
    await host.session.connect('webclient');
    publish = spyOn(host.session, 'publish').and.resolveTo(true);
    await settle();
  });

  afterEach(() => host.session.destroy());

  const byLabel = (text: string) => {
    const label = Array.from(element.querySelectorAll('label')).find((node) => node.textContent?.trim() === text)!;
    return (label.htmlFor ? element.querySelector(`#${label.htmlFor}`) : label.querySelector('input, select')) as HTMLInputElement;
  };
  const button = (name: string) => Array.from(element.querySelectorAll('button')).find((node) => node.textContent?.trim() === name)!;
  const type = (input: HTMLInputElement | HTMLTextAreaElement, value: string) => {
    input.value = value;
    input.dispatchEvent(new Event('input'));
  };

  it('has the original fields and buttons, QoS 1 and retain on by default', () => {
    expect(byLabel('Channel name')).toBeTruthy();
    expect(byLabel('Message')).toBeTruthy();
    expect(button('Send')).toBeTruthy();
    expect(button('Disconnect')).toBeTruthy();
    expect((element.querySelector('select') as HTMLSelectElement).value).toBe('1');
    expect(byLabel('Retain').checked).toBeTrue();
    expect(byLabel('JSON').checked).toBeFalse();
    expect(Array.from(element.querySelectorAll('datalist option')).map((option) => (option as HTMLOptionElement).value)).toEqual(['news', '#bob', '$mySubscriptions']);
  });

  it('does not send without a channel or a message, and says why', async () => {
    button('Send').click();
    await settle();
    expect(publish).not.toHaveBeenCalled();
    expect(element.textContent).toContain('Please enter a channel');
    type(byLabel('Channel name'), 'news');
    await settle();
    button('Send').click();
    await settle();
    expect(element.textContent).toContain('Please enter a message');
    expect(publish).not.toHaveBeenCalled();
  });

  it('sends text as a string with QoS 1 and retain by default', async () => {
    type(byLabel('Channel name'), 'news');
    type(byLabel('Message'), 'hello');
    await settle();
    button('Send').click();
    await settle();
    expect(publish).toHaveBeenCalledOnceWith('news', 'hello', { qos: 1, retain: true });
  });

  it('sends QoS 0 without retain when chosen', async () => {
    type(byLabel('Channel name'), 'news');
    type(byLabel('Message'), 'x');
    const select = element.querySelector('select') as HTMLSelectElement;
    select.value = '0';
    select.dispatchEvent(new Event('change'));
    byLabel('Retain').click();
    await settle();
    button('Send').click();
    await settle();
    expect(publish).toHaveBeenCalledOnceWith('news', 'x', { qos: 0, retain: false });
  });

  it('with JSON on, validates before sending and shows the parse error', async () => {
    byLabel('JSON').click();
    type(byLabel('Channel name'), 'news');
    type(byLabel('Message'), '{"a": ');
    await settle();
    expect(element.querySelector('.field-error')?.textContent).toMatch(/Invalid JSON/);
    expect(byLabel('Message').getAttribute('aria-invalid')).toBe('true');
    button('Send').click();
    await settle();
    expect(publish).not.toHaveBeenCalled();
    type(byLabel('Message'), '{"a": [1, 2]}');
    await settle();
    expect(element.querySelector('.field-error')).toBeNull();
    button('Send').click();
    await settle();
    expect(publish).toHaveBeenCalledOnceWith('news', { a: [1, 2] }, { qos: 1, retain: true });
  });

  it('hints when text looks like JSON but the toggle is off', async () => {
    type(byLabel('Message'), '{"a": 1}');
    await settle();
    expect(element.querySelector('.hint')?.textContent).toContain('turn on JSON');
  });

  it('marks P2P and control channels', async () => {
    type(byLabel('Channel name'), '#bob');
    await settle();
    expect(element.querySelector('.kind-tag')?.textContent).toBe('P2P');
    type(byLabel('Channel name'), '$mySubscriptions');
    await settle();
    expect(element.querySelector('.kind-tag')?.textContent).toBe('Control request');
  });

  it('sends P2P and control requests without retain (protocol 7.9: none on # and $ channels)', async () => {
    type(byLabel('Channel name'), '#bob');
    type(byLabel('Message'), 'psst');
    await settle();
    expect(byLabel('Retain').disabled).toBeTrue();
    expect(byLabel('Retain').checked).toBeFalse();
    button('Send').click();
    await settle();
    expect(publish).toHaveBeenCalledOnceWith('#bob', 'psst', { qos: 1, retain: false });
    type(byLabel('Channel name'), 'news');
    await settle();
    expect(byLabel('Retain').checked).toBeTrue();
  });

  it('Disconnect disconnects the session', async () => {
    const disconnect = spyOn(host.session, 'disconnect').and.resolveTo();
    button('Disconnect').click();
    await settle();
    expect(disconnect).toHaveBeenCalled();
  });
});
