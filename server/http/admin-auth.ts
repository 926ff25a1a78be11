/**
 * Guards the operator endpoints: with ADMIN_TOKEN set, a matching
 * `Authorization: Bearer <token>` is required; without one, only loopback
 * callers are answered, so a fresh install never exposes its API.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}

export function adminAuth(adminToken: string) {
  const expected = Buffer.from(adminToken);
  return (request: Request, response: Response, next: NextFunction) => {
    if (!adminToken) {
      if (isLoopback(request.socket.remoteAddress ?? '')) return next();
      response.status(403).json({ error: 'no ADMIN_TOKEN is configured: the API answers loopback callers only' });
      return;
    }
    const header = request.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    response.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'admin token required: Authorization: Bearer <ADMIN_TOKEN>' });
  };
}
