/**
 * The broker's own tokens in the password, jwt and http modes (protocol 13.2):
 * authAck hands out a TokenSigner token bound to the client id (AUTH_SECRET,
 * TOKEN_TTL_SECONDS) that carries what `auth` decided (the grants of
 * protocol 13.7, the password entry it was checked against), and `conn` is
 * judged by it alone: a forged, expired or another client's token gets 6.
 */
import type { Json } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Peer } from '../hooks';
import type { TokenSigner } from '../tokens';
import { isEmpty, scopeOf, type Grants, type SessionScopes } from './grants';

/** What a token says beyond client id and expiry. */
export interface SessionClaims {
  grants?: Grants;
  /** Password mode: a fingerprint of the entry the password matched, so a changed or removed entry ends its tokens. */
  entry?: string;
}

export class SessionTokens {
  constructor(
    private readonly signer: TokenSigner,
    /** Longest token `conn` accepts (MAX_AUTH_BYTES, protocol 11.1). */
    private readonly maxLength: number,
  ) {}

  /** A token, or null when it would be longer than `conn` accepts (too many or too long grants). */
  issue(clientId: string, claims: SessionClaims, expiresAt?: number): string | null {
    const payload: { [key: string]: Json } = {};
    if (claims.grants && !isEmpty(claims.grants)) {
      payload['g'] = { ...(claims.grants.read ? { r: claims.grants.read } : {}), ...(claims.grants.write ? { w: claims.grants.write } : {}) };
    }
    if (claims.entry !== undefined) payload['e'] = claims.entry;
    const token = this.signer.issue(clientId, Date.now(), { payload: Object.keys(payload).length > 0 ? payload : undefined, expiresAt });
    return token.length > this.maxLength ? null : token;
  }

  /** The claims of a valid token for `clientId`; null for a forged, expired or another client's one. */
  open(token: string, clientId: string): SessionClaims | null {
    const opened = this.signer.open(token, clientId);
    if (!opened) return null;
    const payload = opened.payload;
    if (payload === undefined) return {};
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
    const claims: SessionClaims = {};
    const grants = payload['g'];
    if (grants !== undefined) {
      if (typeof grants !== 'object' || grants === null || Array.isArray(grants)) return null;
      claims.grants = { ...(grants['r'] !== undefined ? { read: grants['r'] as string[] } : {}), ...(grants['w'] !== undefined ? { write: grants['w'] as string[] } : {}) };
    }
    if (typeof payload['e'] === 'string') claims.entry = payload['e'];
    return claims;
  }

  /**
   * The connection validator of a configured mode: the token must be valid for
   * the client id (and pass `accept`); the session's scope is then kept for its
   * later requests.
   */
  validator(scopes: SessionScopes, accept: (clientId: string, claims: SessionClaims) => boolean = () => true) {
    return (clientId: string, token: string, peer: Peer): number => {
      scopes.set(peer, null);
      const claims = this.open(token, clientId);
      if (!claims || !accept(clientId, claims)) return Status.INVALID_TOKEN;
      if (claims.grants) {
        const scope = scopeOf(claims.grants);
        if (!scope) return Status.INVALID_TOKEN;
        scopes.set(peer, scope);
      }
      return Status.OK;
    };
  }
}
