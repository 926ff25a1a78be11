/**
 * AUTH_MODE = jwt (protocol 13.4): `auth` with `{"token": "<JWT>"}`, verified
 * with jose against one key: JWT_SECRET (HS256), JWT_PUBLIC_KEY_PATH (an RSA
 * key: RS256, an EC P-256 key: ES256) or the key set at JWT_JWKS_URL (RS256,
 * ES256). `exp` and `sub` are required, `aud` and `iss` are checked when
 * JWT_AUDIENCE and JWT_ISSUER are set; the client id is `sub`. An optional
 * `channels` claim `{"read": [...], "write": [...]}` narrows the session
 * (protocol 13.7). A refusal says why, with 7; a key set that cannot be
 * fetched gives 5. jose is loaded at the first token (an idle broker, or one
 * in another AUTH_MODE, does not carry it).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as Jose from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Json } from '../../shared/packets';
import { Status } from '../../shared/status';
import { ConfigError, type Config } from '../config';
import type { Application, AuthResult, Peer } from '../hooks';
import type { Logger } from '../log';
import { quote } from '../log-text';
import { parseGrants, type Grants, type SessionScopes } from './grants';
import type { SessionTokens } from './session-tokens';

/** Longest JWT accepted, characters (MAX_AUTH_BYTES bounds the whole auth packet as well). */
export const MAX_JWT_LENGTH = 8192;
/** HS256 secrets shorter than this many bytes are guessable from one token: warned about at start-up. */
const MIN_SECRET_BYTES = 32;

type Algorithm = 'HS256' | 'RS256' | 'ES256';

let loadedJose: Promise<typeof Jose> | null = null;
const jose = () => (loadedJose ??= import('jose'));

interface Verifier {
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  algorithms: Algorithm[];
  describe: string;
}

/** The one key of the configuration; a key file that cannot be read or used stops start-up. */
export function verifierFromConfig(config: Config, log: Logger): Verifier {
  if (config.JWT_SECRET) {
    const key = new TextEncoder().encode(config.JWT_SECRET);
    if (key.length < MIN_SECRET_BYTES) log.warn(`JWT_SECRET is ${key.length} bytes: HS256 secrets under ${MIN_SECRET_BYTES} bytes can be guessed offline from any token`);
    return { key, algorithms: ['HS256'], describe: 'HS256 with JWT_SECRET' };
  }
  if (config.JWT_PUBLIC_KEY_PATH) {
    let key: KeyObject;
    try {
      key = createPublicKey(readFileSync(config.JWT_PUBLIC_KEY_PATH, 'utf8'));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      throw new ConfigError(`JWT_PUBLIC_KEY_PATH: cannot read a PEM public key from ${config.JWT_PUBLIC_KEY_PATH}: ${reason}`);
    }
    if (key.asymmetricKeyType === 'rsa') return { key, algorithms: ['RS256'], describe: `RS256 with ${config.JWT_PUBLIC_KEY_PATH}` };
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
      return { key, algorithms: ['ES256'], describe: `ES256 with ${config.JWT_PUBLIC_KEY_PATH}` };
    }
    throw new ConfigError(`JWT_PUBLIC_KEY_PATH: ${config.JWT_PUBLIC_KEY_PATH} is a ${key.asymmetricKeyType} key; expected RSA (RS256) or EC P-256 (ES256)`);
  }
  const url = new URL(config.JWT_JWKS_URL);
  // Made at the first token, like jose itself; the key set is fetched then anyway.
  let keySet: JWTVerifyGetKey | null = null;
  const key: JWTVerifyGetKey = async (header, token) => {
    keySet ??= (await jose()).createRemoteJWKSet(url, { timeoutDuration: config.AUTH_HTTP_TIMEOUT_MS });
    return keySet(header, token);
  };
  // Shown without user, password or query, which may hold secrets.
  return { key, algorithms: ['RS256', 'ES256'], describe: `RS256/ES256 with the key set at ${url.origin}${url.pathname}` };
}

const refused = (reason: string): AuthResult => ({ status: Status.NOT_ALLOWED, message: `token refused: ${reason}` });

/** Why jose refused a token, for the client; null when the fault is the broker's (key set unavailable). */
function reasonOf(error: unknown, { errors }: typeof Jose): string | null {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'wrong audience';
    if (error.claim === 'iss') return 'wrong issuer';
    if (error.claim === 'nbf') return 'not valid yet';
    if (error.reason === 'missing') return `no '${error.claim}' claim`;
    return `bad '${error.claim}' claim`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the key set matches';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'several keys of the key set match';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) return 'not a valid JWT';
  return null;
}

/** The `channels` claim as grants; a string when it is malformed. */
function grantsOf(payload: JWTPayload): Grants | string {
  const channels = payload['channels'];
  if (channels === undefined) return {};
  if (typeof channels !== 'object' || channels === null || Array.isArray(channels)) return "'channels' is not an object";
  const { read, write } = channels as Record<string, unknown>;
  return parseGrants(read, write);
}

export interface JwtAuthOptions {
  config: Config;
  tokens: SessionTokens;
  scopes: SessionScopes;
  log: Logger;
  verifier: Verifier;
}

export function jwtApplication(options: JwtAuthOptions): Partial<Application> {
  const { config, tokens, scopes, log, verifier } = options;
  const checks = {
    algorithms: verifier.algorithms,
    requiredClaims: ['exp', 'sub'],
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
  };
  return {
    async authenticate(data: Json, peer: Peer): Promise<AuthResult> {
      const jwt = typeof data === 'object' && data !== null && !Array.isArray(data) ? data['token'] : undefined;
      if (typeof jwt !== 'string' || jwt === '') return { status: Status.INVALID_PACKET, message: "auth data needs a 'token' string" };
      if (jwt.length > MAX_JWT_LENGTH) return { status: Status.INVALID_PACKET, message: `token over ${MAX_JWT_LENGTH} characters` };
      let payload: JWTPayload;
      const loaded = await jose();
      try {
        ({ payload } = await loaded.jwtVerify(jwt, verifier.key, checks));
      } catch (error) {
        const reason = reasonOf(error, loaded);
        if (reason === null) {
          log.error(`jwt auth from ${peer.remoteHost}: cannot verify: ${(error as Error).message}`);
          return { status: Status.SERVER_ERROR, message: 'token keys unavailable' };
        }
        log.info(`jwt auth refused from ${peer.remoteHost}: ${reason}`);
        return refused(reason);
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') return refused("no 'sub' claim");
      const grants = grantsOf(payload);
      if (typeof grants === 'string') {
        log.info(`jwt auth refused for client ${quote(payload.sub)} from ${peer.remoteHost}: bad channels claim: ${grants}`);
        return refused(`bad 'channels' claim: ${grants}`);
      }
      const token = tokens.issue(payload.sub, { grants }, payload.exp! * 1000);
      if (!token) return refused("'channels' claim too long for a session token (MAX_AUTH_BYTES)");
      return { status: Status.OK, clientId: payload.sub, token };
    },
    validateConnection: tokens.validator(scopes),
  };
}
