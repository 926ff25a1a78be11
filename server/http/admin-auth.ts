/**
 * Guards the operator endpoints: with ADMIN_TOKEN set, a matching
 * `Authorization: Bearer <token>` is required; without one, only loopback
 * callers that name a loopback host are answered, so a fresh install never
 * exposes its API, not even to a web page that rebinds its own DNS name to
 * 127.0.0.1 (its requests still carry `Host: attacker.example`).
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

export function adminAuth(adminToken: string) {
  const expected = Buffer.from(adminToken);
  return (request: Request, response: Response, next: NextFunction) => {
    if (!adminToken) {
      if (!isLoopback(peerAddress(request.socket))) {
        response.status(403).json({ error: 'no ADMIN_TOKEN is configured: the API answers loopback callers only' });
        return;
      }
      if (!isLoopbackHost(request.headers.host)) {
        response.status(403).json({ error: 'no ADMIN_TOKEN is configured: the API answers requests for localhost only (Host header)' });
        return;
      }
      return next();
    }
    const header = request.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    response.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'admin token required: Authorization: Bearer <ADMIN_TOKEN>' });
  };
}
