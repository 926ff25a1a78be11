/**
 * Signed session tokens: HMAC-SHA256 over the client id and an expiry, so a
 * token opens a session for the client it was issued to and for no other,
 * and only until it expires. Exported for applications' own hooks.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class TokenSigner {
  constructor(
    private readonly secret: string,
    /** Token lifetime, seconds. */
    private readonly ttlSeconds: number,
  ) {}

  issue(clientId: string, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + this.ttlSeconds;
    const body = Buffer.from(`${expires}.${clientId}`, 'utf8').toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** True when the token was issued by this secret, for this client id, and has not expired. */
  verify(token: string, clientId: string, now = Date.now()): boolean {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return false;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    const decoded = Buffer.from(body, 'base64url').toString('utf8');
    const separator = decoded.indexOf('.');
    const expires = Number(decoded.slice(0, separator));
    return decoded.slice(separator + 1) === clientId && Number.isFinite(expires) && expires * 1000 > now;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

/** The configured secret, or one generated on first start and kept in `file` so tokens survive restarts. */
export function loadOrCreateSecret(configured: string, file: string): string {
  if (configured) return configured;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
