/**
 * Guards the operator endpoints: with ADMIN_TOKEN set, a matching
 * `Authorization: Bearer <token>` is required; without one, only loopback
 * callers that name a loopback host are answered, so a fresh install never
 * exposes its API, not even to a web page that rebinds its own DNS name to
 * 127.0.0.1 (its requests still carry `Host: attacker.example`), nor to a
 * page of another origin that posts to localhost or opens a WebSocket there
 * (its `Origin` is refused for anything but a read).
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { peerAddress } from '../transports/listener';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
/** `localhost`, `*.localhost`, 127.x.x.x or [::1], with or without a port. */
const LOOPBACK_HOST = /^(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;

export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

/** What the guard looks at of a request (an HTTP request, or a WebSocket upgrade). */
export interface AdminCaller {
  remoteAddress: string;
  host: string | undefined;
  authorization: string | undefined;
  /** The admin token given another way than the header (the live events socket). */
  token?: string | undefined;
  origin?: string | undefined;
  /** A request that changes something, or a WebSocket: without ADMIN_TOKEN a foreign `Origin` is refused too. */
  checkOrigin?: boolean;
}

export function tokenMatches(adminToken: string, given: string): boolean {
  const expected = Buffer.from(adminToken);
  const offered = Buffer.from(given);
  return adminToken !== '' && offered.length === expected.length && timingSafeEqual(offered, expected);
}

/** A web page on another origin, which a browser lets send a POST or open a WebSocket to localhost without asking. */
function foreignOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return false;
  try {
    return !isLoopbackHost(new URL(origin).host);
  } catch {
    return true;
  }
}

/** Null when the caller may use the admin API; else the HTTP status and why not. */
export function adminRefusal(adminToken: string, caller: AdminCaller): { status: 401 | 403; error: string } | null {
  if (!adminToken) {
    if (!isLoopback(caller.remoteAddress)) return { status: 403, error: 'no ADMIN_TOKEN is configured: the API answers loopback callers only' };
    if (!isLoopbackHost(caller.host)) return { status: 403, error: 'no ADMIN_TOKEN is configured: the API answers requests for localhost only (Host header)' };
    if (caller.checkOrigin && foreignOrigin(caller.origin)) return { status: 403, error: 'no ADMIN_TOKEN is configured: requests from web pages of other origins are refused (Origin header)' };
    return null;
  }
  const header = caller.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7) : caller.token ?? '';
  return tokenMatches(adminToken, given) ? null : { status: 401, error: 'admin token required: Authorization: Bearer <ADMIN_TOKEN>' };
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function adminAuth(adminToken: string) {
  return (request: Request, response: Response, next: NextFunction) => {
    const refusal = adminRefusal(adminToken, {
      remoteAddress: peerAddress(request.socket),
      host: request.headers.host,
      authorization: request.headers.authorization,
      origin: request.headers.origin,
      checkOrigin: !READS.has(request.method),
    });
    if (refusal === null) return next();
    if (refusal.status === 401) response.set('WWW-Authenticate', 'Bearer');
    response.status(refusal.status).json({ error: refusal.error });
  };
}
