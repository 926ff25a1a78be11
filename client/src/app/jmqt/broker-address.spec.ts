/** Specs of the broker address: defaults from the page, WebSocket and API URLs, and the remembered choice. */
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { apiBase, BrokerAddress, defaultAddress, isDevServer, PAGE_LOCATION, webSocketUrl, type PageLocation } from './broker-address';

const served: PageLocation = { host: 'broker.example:8011', protocol: 'http:', port: '8011' };
const servedTls: PageLocation = { host: 'broker.example:8013', protocol: 'https:', port: '8013' };
const dev: PageLocation = { host: 'localhost:4200', protocol: 'http:', port: '4200' };

describe('broker address', () => {
  it('defaults to the page host, wss when the page came over https', () => {
    expect(defaultAddress(served)).toEqual({ host: 'broker.example:8011', secure: false });
    expect(defaultAddress(servedTls)).toEqual({ host: 'broker.example:8013', secure: true });
  });

  it('uses path / when the broker serves the page (protocol 1.3)', () => {
    expect(webSocketUrl(defaultAddress(served), served)).toBe('ws://broker.example:8011/');
    expect(webSocketUrl(defaultAddress(servedTls), servedTls)).toBe('wss://broker.example:8013/');
  });

  it('uses /ws on the ng serve host (port 4200), which the proxy rewrites to /', () => {
    expect(isDevServer(dev)).toBeTrue();
    expect(isDevServer(served)).toBeFalse();
    expect(webSocketUrl(defaultAddress(dev), dev)).toBe('ws://localhost:4200/ws');
    expect(webSocketUrl({ host: 'localhost:8011', secure: false }, dev)).toBe('ws://localhost:8011/');
  });

  it('calls the API relative on the same origin, absolute elsewhere', () => {
    expect(apiBase(defaultAddress(served), served)).toBe('');
    expect(apiBase({ host: 'other:8013', secure: true }, served)).toBe('https://other:8013');
    expect(apiBase({ host: 'broker.example:8011', secure: true }, served)).toBe('https://broker.example:8011');
  });

  describe('BrokerAddress', () => {
    beforeEach(() => {
      localStorage.clear();
      TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection(), { provide: PAGE_LOCATION, useValue: served }] });
    });
    afterEach(() => localStorage.clear());

    it('lets the operator change host and TLS, remembers it, and resets', () => {
      const address = TestBed.inject(BrokerAddress);
      expect(address.url()).toBe('ws://broker.example:8011/');
      expect(address.isDefault()).toBeTrue();
      address.set(' other:9013 ', true);
      expect(address.url()).toBe('wss://other:9013/');
      expect(address.apiBase()).toBe('https://other:9013');
      expect(address.isDefault()).toBeFalse();
      expect(JSON.parse(localStorage.getItem('jmqt.brokerAddress')!)).toEqual({ host: 'other:9013', secure: true });
      address.reset();
      expect(address.url()).toBe('ws://broker.example:8011/');
      expect(localStorage.getItem('jmqt.brokerAddress')).toBeNull();
    });

    it('restores a remembered address, and an empty host means the page host', () => {
      localStorage.setItem('jmqt.brokerAddress', JSON.stringify({ host: 'saved:1', secure: false }));
      const address = TestBed.inject(BrokerAddress);
      expect(address.host()).toBe('saved:1');
      address.set('', false);
      expect(address.host()).toBe('broker.example:8011');
    });
  });
});
