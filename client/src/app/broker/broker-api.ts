/**
 * The broker's REST API (`/api/stats`, `/api/clients`, `/api/retained`) on
 * the broker address's host. With ADMIN_TOKEN set the broker answers 401
 * until the request carries `Authorization: Bearer <token>`; the token the
 * operator enters is kept in sessionStorage (gone when the tab closes).
 */
import { Injectable, InjectionToken, inject, signal } from '@angular/core';
import { BrokerAddress } from '../jmqt/broker-address';
import type { BrokerClients, BrokerRetained, BrokerStats } from './broker-types';

export const FETCH = new InjectionToken<typeof fetch>('fetch', {
  providedIn: 'root',
  factory: () => globalThis.fetch.bind(globalThis),
});

const TOKEN_KEY = 'jmqt.adminToken';

/** 401 (token missing or wrong) or 403 (the broker has no token and answers loopback callers only). */
export class ApiAuthError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiAuthError';
  }
}

@Injectable({ providedIn: 'root' })
export class BrokerApi {
  private readonly address = inject(BrokerAddress);
  private readonly fetcher = inject(FETCH);
  private readonly tokenValue = signal(readToken());

  /** The admin token sent as Bearer; empty: none. */
  readonly token = this.tokenValue.asReadonly();

  setToken(token: string): void {
    const value = token.trim();
    this.tokenValue.set(value);
    try {
      if (value) globalThis.sessionStorage?.setItem(TOKEN_KEY, value);
      else globalThis.sessionStorage?.removeItem(TOKEN_KEY);
    } catch {
      // Storage disabled: the token lives until reload.
    }
  }

  stats(): Promise<BrokerStats> {
    return this.get<BrokerStats>('/stats');
  }

  clients(): Promise<BrokerClients> {
    return this.get<BrokerClients>('/clients');
  }

  retained(): Promise<BrokerRetained> {
    return this.get<BrokerRetained>('/retained');
  }

  private async get<T>(path: string): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = this.tokenValue();
    if (token) headers['Authorization'] = `Bearer ${token}`;
    const response = await this.fetcher(`${this.address.apiBase()}/api${path}`, { headers, cache: 'no-store' });
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    if (response.status === 401 || response.status === 403) {
      throw new ApiAuthError(response.status, body?.error ?? `HTTP ${response.status}`);
    }
    if (!response.ok || body === null) throw new Error(`GET /api${path}: HTTP ${response.status}${body?.error ? `, ${body.error}` : ''}`);
    return body as T;
  }
}

function readToken(): string {
  try {
    return globalThis.sessionStorage?.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}
