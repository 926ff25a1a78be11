/**
 * AUTH_MODE = password (protocol 13.3): `auth` with
 * `{"client_name": "<id>", "password": "<pw>"}` is checked against
 * PASSWORD_FILE. A right password gets authAck 1 with the client id and the
 * broker's token; a wrong password and an unknown id get the same 7, after the
 * same scrypt work and no sooner than FAILURE_DELAY_MS, so nothing tells which
 * ids exist; other data gets 10.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Application, AuthResult, Peer } from '../hooks';
import type { Logger } from '../log';
import { quote } from '../log-text';
import type { SessionScopes } from './grants';
import { dummyHash, verifyPassword, type PasswordHash } from './passwords';
import type { PendingBound } from './pending';
import type { Reloadable } from './reloading';
import type { SessionTokens } from './session-tokens';

export type PasswordTable = ReadonlyMap<string, { hash: PasswordHash; text: string }>;

/** A refusal is answered this long after the auth arrived at the earliest, ms: wrong password and unknown id look alike. */
export const FAILURE_DELAY_MS = 250;
export const REFUSED: AuthResult = { status: Status.NOT_ALLOWED, message: 'wrong client name or password' };
export const MALFORMED: AuthResult = { status: Status.INVALID_PACKET, message: "auth data needs 'client_name' and 'password' strings" };

export interface PasswordAuthOptions {
  table: Reloadable<PasswordTable>;
  tokens: SessionTokens;
  scopes: SessionScopes;
  bound: PendingBound;
  log: Logger;
}

/** A short fingerprint of an entry's hash: a token from before a password change or removal opens no session. */
export function entryFingerprint(hashText: string): string {
  return createHash('sha256').update(hashText).digest('base64url').slice(0, 16);
}

function credentials(data: Json): { name: string; password: string } | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const name = data['client_name'];
  const password = data['password'];
  if (typeof name !== 'string' || name === '' || typeof password !== 'string') return null;
  return { name, password };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function passwordApplication(options: PasswordAuthOptions): Partial<Application> {
  const { table, tokens, scopes, bound, log } = options;
  const dummy = dummyHash();
  return {
    async authenticate(data: Json, peer: Peer): Promise<AuthResult> {
      const given = credentials(data);
      if (!given) return MALFORMED;
      const started = Date.now();
      const result = await bound.run('password verifications', async () => {
        const entry = table.current.get(given.name);
        // Unknown ids are verified too, against a hash no password matches: the same work.
        const matched = await verifyPassword(given.password, entry?.hash ?? dummy);
        if (!entry || !matched) {
          log.info(`password auth refused for client ${quote(given.name)} from ${peer.remoteHost}: ${entry ? 'wrong password' : 'unknown client id'}`);
          return REFUSED;
        }
        const token = tokens.issue(given.name, { entry: entryFingerprint(entry.text) });
        if (!token) return { status: Status.INVALID_PACKET, message: 'token over MAX_AUTH_BYTES' };
        return { status: Status.OK, clientId: given.name, token };
      });
      if (result === REFUSED) await sleep(started + FAILURE_DELAY_MS - Date.now());
      return result;
    },
    // Protocol 13.2: the broker's token, for an entry still in the file as it was.
    validateConnection: tokens.validator(scopes, (clientId, claims) => {
      const entry = table.current.get(clientId);
      return entry !== undefined && claims.entry === entryFingerprint(entry.text);
    }),
  };
}
