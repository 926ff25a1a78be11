/** Specs of BrokerPanel over a fake fetch: totals, clients, retained messages, the admin token prompt, and its label helpers. */
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { PAGE_LOCATION } from '../jmqt/broker-address';
import { FETCH } from './broker-api';
import { BrokerPanel, uptimeLabel, bytesLabel } from './broker-panel';

const stats = {
  uptimeSeconds: 3725,
  connections: { total: 2, sessions: 2, byTransport: { SOCKET: 1, WEB_SOCKET: 1, SSL_SOCKET: 0, SSL_WEB_SOCKET: 0 } },
  subscriptions: 5,
  channels: 4,
  retained: 1,
  queuedQos1: 3,
  messages: { in: 100, out: 250 },
  memory: { rssBytes: 50 * 1024 * 1024 },
};
const clients = {
  clients: [
    { clientId: 'alice', transport: 'WEB_SOCKET', remoteHost: '127.0.0.1', connectedAt: '', lastSeenMs: 200, outboundBytes: 0, queuedQos1: 0, subscriptions: { '#alice': 'persistent', news: 'temp' } },
    { clientId: 'bob', transport: 'SOCKET', remoteHost: '127.0.0.1', connectedAt: '', lastSeenMs: 4000, outboundBytes: 0, queuedQos1: 2, subscriptions: { '#bob': 'persistent' } },
  ],
  offlineQueues: [{ clientId: 'carol', queuedQos1: 1 }],
};
const retained = { retained: [{ channel: 'news', sender: '', data: { headline: 'hi' } }] };

describe('BrokerPanel', () => {
  let requests: Array<{ url: string; auth: string | undefined }>;
  let token: string | null;

  function respond(status: number, body: unknown): Response {
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }

  beforeEach(() => {
    sessionStorage.clear();
    requests = [];
    token = null;
    const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      const auth = (init?.headers as Record<string, string> | undefined)?.['Authorization'];
      requests.push({ url, auth });
      if (token !== null && auth !== `Bearer ${token}`) return respond(401, { error: 'admin token required' });
      if (url.endsWith('/api/stats')) return respond(200, stats);
      if (url.endsWith('/api/clients')) return respond(200, clients);
      if (url.endsWith('/api/retained')) return respond(200, retained);
      return respond(404, { error: 'no such API endpoint' });
    }) as typeof fetch;
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        { provide: FETCH, useValue: fakeFetch },
        { provide: PAGE_LOCATION, useValue: { host: 'b:8011', protocol: 'http:', port: '8011' } },
      ],
    });
  });

  afterEach(() => sessionStorage.clear());

  async function render() {
    const fixture = TestBed.createComponent(BrokerPanel);
    fixture.componentRef.setInput('refreshMs', 0);
    await fixture.whenStable();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await fixture.whenStable();
    return { fixture, element: fixture.nativeElement as HTMLElement };
  }

  it('shows stats, clients with transport, subscriptions and queued QoS 1, and retained messages', async () => {
    const { element } = await render();
    expect(requests.map((request) => request.url).sort()).toEqual(['/api/clients', '/api/retained', '/api/stats']);
    const text = element.textContent!;
    expect(text).toContain('up 1 h 2 min');
    expect(text).toContain('Queued QoS 1');
    const clientItems = Array.from(element.querySelectorAll('ul[aria-label="Connected clients"] > li'));
    expect(clientItems.map((item) => item.querySelector('.client-id')!.textContent)).toEqual(['alice', 'bob']);
    expect(clientItems[0].textContent).toContain('WS');
    expect(clientItems[0].textContent).toContain('news');
    expect(clientItems[1].textContent).toContain('TCP');
    expect(clientItems[1].textContent).toContain('2 queued');
    expect(text).toContain('carol');
    const retainedItems = element.querySelectorAll('ul[aria-label="Retained messages"] > li');
    expect(retainedItems.length).toBe(1);
    expect(retainedItems[0].textContent).toContain('{"headline":"hi"}');
    expect(retainedItems[0].textContent).toContain('from server');
  });

  it('asks for the admin token on 401 and sends it as Bearer, kept in sessionStorage', async () => {
    token = 's3cret';
    const { fixture, element } = await render();
    const input = element.querySelector('#admin-token') as HTMLInputElement;
    expect(input).not.toBeNull();
    expect(element.querySelector('label[for="admin-token"]')!.textContent!.trim()).toBe('Admin token');
    expect(element.querySelector('.stats')).toBeNull();
    input.value = 's3cret';
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
    (element.querySelector('.token-form button[type="submit"]') as HTMLButtonElement).click();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await fixture.whenStable();
    expect(requests.at(-1)!.auth).toBe('Bearer s3cret');
    expect(sessionStorage.getItem('jmqt.adminToken')).toBe('s3cret');
    expect(element.querySelector('#admin-token')).toBeNull();
    expect(element.querySelector('.stats')).not.toBeNull();
  });

  it('formats uptime and sizes', () => {
    expect(uptimeLabel(42)).toBe('42 s');
    expect(uptimeLabel(600)).toBe('10 min');
    expect(uptimeLabel(3 * 86400 + 7200)).toBe('3 d 2 h');
    expect(bytesLabel(1536)).toBe('1.5 KiB');
    expect(bytesLabel(512)).toBe('512 B');
    expect(bytesLabel(221_249_536)).toBe('211 MiB');
    expect(bytesLabel(2 * 1024 ** 3)).toBe('2 GiB');
  });
});
