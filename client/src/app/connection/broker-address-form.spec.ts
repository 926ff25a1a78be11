/** Specs of BrokerAddressForm (apply, TLS toggle, Default) and swapDefaultPort. */
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { BrokerAddress, PAGE_LOCATION } from '../jmqt/broker-address';
import { BrokerAddressForm, swapDefaultPort } from './broker-address-form';

describe('BrokerAddressForm', () => {
  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), { provide: PAGE_LOCATION, useValue: { host: 'page:8011', protocol: 'http:', port: '8011' } }],
    });
  });
  afterEach(() => localStorage.clear());

  it('applies a new host and TLS, and goes back to the default', async () => {
    const fixture = TestBed.createComponent(BrokerAddressForm);
    const element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    const host = element.querySelector('#broker-host') as HTMLInputElement;
    const tls = element.querySelector('input[type="checkbox"]') as HTMLInputElement;
    const apply = Array.from(element.querySelectorAll('button')).find((button) => button.textContent!.trim() === 'Apply')!;
    expect(host.value).toBe('page:8011');
    expect(apply.disabled).toBeTrue();
    expect(element.textContent).toContain('ws://page:8011/');

    host.value = 'other:8013';
    host.dispatchEvent(new Event('input'));
    tls.click();
    await fixture.whenStable();
    expect(apply.disabled).toBeFalse();
    apply.click();
    await fixture.whenStable();
    expect(TestBed.inject(BrokerAddress).url()).toBe('wss://other:8013/');
    expect(element.textContent).toContain('wss://other:8013/');

    Array.from(element.querySelectorAll('button')).find((button) => button.textContent!.trim() === 'Default')!.click();
    await fixture.whenStable();
    expect(host.value).toBe('page:8011');
    expect(TestBed.inject(BrokerAddress).url()).toBe('ws://page:8011/');
  });
});

describe('swapDefaultPort', () => {
  it('moves between the WebSocket ports 8011 and 8013 with TLS, and leaves other ports alone', () => {
    expect(swapDefaultPort('broker:8011', true)).toBe('broker:8013');
    expect(swapDefaultPort('broker:8013', false)).toBe('broker:8011');
    expect(swapDefaultPort('broker:9000', true)).toBe('broker:9000');
    expect(swapDefaultPort('broker', true)).toBe('broker');
  });
});
