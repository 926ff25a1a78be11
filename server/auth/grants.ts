/**
 * Per-session narrowing (protocol 13.7): the `read` and `write` pattern lists
 * a JWT's `channels` claim or the HTTP service's answer gives one client. They
 * travel from `auth` to `conn` inside the broker's signed token (no table per
 * client id), and from `conn` on are kept per connection in a WeakMap keyed by
 * the hooks' `peer`, which is the connection itself: they go when it goes.
 */
import type { Peer } from '../hooks';
import { matches, parsePattern, type Access, type Pattern } from './acl';

/** Pattern lists as written in a token; a list left out does not narrow that access. */
export interface Grants {
  read?: string[];
  write?: string[];
}

/** Grants parsed, ready to match. */
export interface Scope {
  read?: readonly Pattern[];
  write?: readonly Pattern[];
}

/** Most patterns in one list: the lists ride in every token. */
export const MAX_GRANT_PATTERNS = 64;

/** Checks `read` and `write` as they came from a JWT or a service; answers the grants, or the reason they are bad. */
export function parseGrants(read: unknown, write: unknown): Grants | string {
  const grants: Grants = {};
  for (const [name, list] of [['read', read], ['write', write]] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `'${name}' is not an array of patterns`;
    if (list.length > MAX_GRANT_PATTERNS) return `'${name}' has more than ${MAX_GRANT_PATTERNS} patterns`;
    for (const item of list) {
      if (typeof item !== 'string') return `'${name}' holds something that is not a string`;
      try {
        parsePattern(item);
      } catch (error) {
        return `'${name}': ${(error as Error).message}`;
      }
    }
    grants[name] = list as string[];
  }
  return grants;
}

export function isEmpty(grants: Grants): boolean {
  return grants.read === undefined && grants.write === undefined;
}

/** Grants → patterns; null when they are not well-formed (a token carries only what parseGrants accepted). */
export function scopeOf(grants: Grants): Scope | null {
  const checked = parseGrants(grants.read, grants.write);
  if (typeof checked === 'string') return null;
  const scope: Scope = {};
  if (checked.read) scope.read = checked.read.map(parsePattern);
  if (checked.write) scope.write = checked.write.map(parsePattern);
  return scope;
}

/** A list left out allows everything (the ACL file still applies); a list given allows only what it matches. */
export function scopeAllows(scope: Scope, access: Access, channel: string, clientId: string): boolean {
  const patterns = scope[access];
  return patterns === undefined || patterns.some((pattern) => matches(pattern, channel, clientId));
}

/** Each open session's scope, by its connection. */
export class SessionScopes {
  private readonly scopes = new WeakMap<Peer, Scope>();

  set(peer: Peer, scope: Scope | null): void {
    if (scope) this.scopes.set(peer, scope);
    else this.scopes.delete(peer);
  }

  get(peer: Peer): Scope | undefined {
    return this.scopes.get(peer);
  }
}
