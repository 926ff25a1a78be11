/**
 * Where the dashboard finds the broker: host (with port) and TLS. Default is
 * the page's own host, since the broker serves the dashboard on its
 * WebSocket port (protocol 1.3: the WebSocket lives at path `/`). Under `ng serve`
 * (port 4200) the WebSocket goes to `/ws`, which proxy.conf.json rewrites to
 * the broker's `/`. The operator may point it elsewhere; the choice is kept
 * in localStorage.
 */
import { computed, Injectable, InjectionToken, inject, signal } from '@angular/core';

export interface BrokerAddressValue {
  /** `host` or `host:port`, as in `location.host`. */
  host: string;
  /** `wss:` (and `https:` for the API) instead of `ws:`. */
  secure: boolean;
}

/** The parts of `window.location` the address needs (a token, so tests can pass their own). */
export interface PageLocation {
  host: string;
  protocol: string;
  port: string;
}

export const PAGE_LOCATION = new InjectionToken<PageLocation>('page location', {
  providedIn: 'root',
  factory: () => globalThis.location ?? { host: 'localhost:8011', protocol: 'http:', port: '8011' },
});

/** Port of `ng serve`: the page is not served by the broker there. */
const DEV_SERVER_PORT = '4200';
const STORAGE_KEY = 'jmqt.brokerAddress';

/** True when the page comes from `ng serve`, whose proxy forwards `/ws` and `/api` to the broker. */
export function isDevServer(page: PageLocation): boolean {
  return page.port === DEV_SERVER_PORT;
}

/** The page's own host, TLS when the page itself came over https. */
export function defaultAddress(page: PageLocation): BrokerAddressValue {
  return { host: page.host, secure: page.protocol === 'https:' };
}

/**
 * WebSocket URL of `address`: `/ws` on the dev server's own host (proxied to
 * the broker's `/`), else `/` as the reference browser client uses.
 */
export function webSocketUrl(address: BrokerAddressValue, page: PageLocation): string {
  const path = isDevServer(page) && address.host === page.host ? '/ws' : '/';
  return `${address.secure ? 'wss' : 'ws'}://${address.host}${path}`;
}

/** Base of the REST API: relative on the page's own host (same origin, or the dev proxy), else absolute. */
export function apiBase(address: BrokerAddressValue, page: PageLocation): string {
  if (address.host === page.host && address.secure === (page.protocol === 'https:')) return '';
  return `${address.secure ? 'https' : 'http'}://${address.host}`;
}

@Injectable({ providedIn: 'root' })
export class BrokerAddress {
  private readonly page = inject(PAGE_LOCATION);
  private readonly value = signal<BrokerAddressValue>(this.restore());

  readonly host = computed(() => this.value().host);
  readonly secure = computed(() => this.value().secure);
  /** e.g. `ws://localhost:8011/`. */
  readonly url = computed(() => webSocketUrl(this.value(), this.page));
  /** `''` (same origin) or e.g. `https://broker.example:8013`. */
  readonly apiBase = computed(() => apiBase(this.value(), this.page));
  readonly isDefault = computed(() => {
    const fallback = defaultAddress(this.page);
    return this.value().host === fallback.host && this.value().secure === fallback.secure;
  });

  /** Sets host and TLS; an empty host means the page's own host. */
  set(host: string, secure: boolean): void {
    const next = { host: host.trim() || this.page.host, secure };
    this.value.set(next);
    this.store(next);
  }

  reset(): void {
    this.value.set(defaultAddress(this.page));
    this.store(null);
  }

  private restore(): BrokerAddressValue {
    try {
      const saved = JSON.parse(globalThis.localStorage?.getItem(STORAGE_KEY) ?? 'null') as Partial<BrokerAddressValue> | null;
      if (saved && typeof saved.host === 'string' && saved.host !== '' && typeof saved.secure === 'boolean') {
        return { host: saved.host, secure: saved.secure };
      }
    } catch {
      // Storage disabled or garbage in it: use the default.
    }
    return defaultAddress(this.page);
  }

  private store(value: BrokerAddressValue | null): void {
    try {
      if (value) globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(value));
      else globalThis.localStorage?.removeItem(STORAGE_KEY);
    } catch {
      // Not fatal: the address is just not remembered.
    }
  }
}
