/**
 * Signed session tokens: HMAC-SHA256 over the client id and an expiry, so a
 * token opens a session for the client it was issued to and for no other,
 * and only until it expires. Exported for applications' own hooks.
 *
 * A token may also carry a signed JSON payload (the configured authentication
 * modes put the narrowing of protocol 13.7 there), so what `auth` decided
 * reaches `conn` without a table that grows per client id. A token without a
 * payload is byte for byte what this signer always issued.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Json } from '../shared/packets';

export interface TokenOptions {
  /** Signed along: anything JSON, read back by open(). */
  payload?: Json;
  /** Expiry, ms since the epoch, when sooner than the signer's lifetime (a JWT's `exp`). */
  expiresAt?: number;
}

export class TokenSigner {
  constructor(
    private readonly secret: string,
    /** Token lifetime, seconds. */
    private readonly ttlSeconds: number,
  ) {}

  /**
   * A token for `clientId`, valid for the signer's lifetime (or until `options.expiresAt`, ms, when
   * that is sooner), carrying `options.payload` when given: `<id and expiry>[.<payload>].<signature>`,
   * each part base64url, the signature over everything before it.
   */
  issue(clientId: string, now = Date.now(), options: TokenOptions = {}): string {
    let expires = Math.floor(now / 1000) + this.ttlSeconds;
    if (options.expiresAt !== undefined) expires = Math.min(expires, Math.floor(options.expiresAt / 1000));
    let body = Buffer.from(`${expires}.${clientId}`, 'utf8').toString('base64url');
    if (options.payload !== undefined) body += '.' + Buffer.from(JSON.stringify(options.payload), 'utf8').toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** True when the token was issued by this secret, for this client id, and has not expired. */
  verify(token: string, clientId: string, now = Date.now()): boolean {
    return this.open(token, clientId, now) !== null;
  }

  /** The token's payload (`undefined` when it has none) when verify() would be true; otherwise null. */
  open(token: string, clientId: string, now = Date.now()): { payload: Json | undefined } | null {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return null;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    // base64url has no '.', so the parts of a signed body are unambiguous.
    const [head = '', extra] = body.split('.', 2);
    const decoded = Buffer.from(head, 'base64url').toString('utf8');
    const separator = decoded.indexOf('.');
    const expires = Number(decoded.slice(0, separator));
    if (decoded.slice(separator + 1) !== clientId || !Number.isFinite(expires) || expires * 1000 <= now) return null;
    if (extra === undefined) return { payload: undefined };
    try {
      return { payload: JSON.parse(Buffer.from(extra, 'base64url').toString('utf8')) as Json };
    } catch {
      return null;
    }
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
