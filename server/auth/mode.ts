/**
 * Authentication and access control from the configuration (protocol 13.1):
 * AUTH_MODE picks the authentication hooks (the sample application, a
 * password file, JWTs, an HTTP service) and ACL_FILE adds access rules in
 * front of them. The result is a plain Partial<Application>, so a code
 * application can use it as it is, replace hooks of it, or wrap it; the
 * pieces (passwordApplication, jwtApplication, httpApplication,
 * withAccessControl) are exported for the same purpose.
 */
import type { Config } from '../config';
import type { Application } from '../hooks';
import type { Logger } from '../log';
import { sampleApplication } from '../sample-app';
import type { ServerApi } from '../server-api';
import type { TokenSigner } from '../tokens';
import { parseAcl, type AclRules } from './acl';
import { withAccessControl } from './access-control';
import { SessionScopes } from './grants';
import { httpApplication, JsonPoster } from './http-service';
import { jwtApplication, verifierFromConfig } from './jwt';
import { passwordApplication, type PasswordTable } from './password-auth';
import { parsePasswordFile } from './password-file';
import { PendingBound } from './pending';
import { watchFile, type Reloadable } from './reloading';
import { SessionTokens } from './session-tokens';

export interface Authentication {
  /** The hooks to hand to startServer. */
  readonly application: Partial<Application>;
  /** What is configured, for the start-up INF line. */
  readonly summary: string;
  /** Re-reads PASSWORD_FILE and ACL_FILE now, as SIGHUP does; true when every file read is in force. */
  reload(): Promise<boolean>;
  /** Stops watching files and closes kept-alive connections to the authentication service. */
  close(): void;
}

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\./.test(url.hostname);
}

/** Builds the hooks AUTH_MODE and ACL_FILE ask for; a file that cannot be used throws ConfigError naming its key. */
export function authenticationFromConfig(config: Config, log: Logger, signer: TokenSigner): Authentication {
  const files: Array<Reloadable<unknown>> = [];
  const closers: Array<() => void> = [];
  const close = () => {
    for (const file of files) file.close();
    for (const closer of closers) closer();
  };
  try {
    return build(config, log, signer, files, closers, close);
  } catch (error) {
    close();
    throw error;
  }
}

function build(config: Config, log: Logger, signer: TokenSigner, files: Array<Reloadable<unknown>>, closers: Array<() => void>, close: () => void): Authentication {
  let api: ServerApi | null = null;
  // Protocol 11.11: a bound hit is counted under its key, like the broker's own limits.
  const bound = new PendingBound(config.AUTH_MAX_PENDING, (detail) => {
    if (api) api.limitHit('AUTH_MAX_PENDING', detail);
    else log.warn(`limit AUTH_MAX_PENDING hit: ${detail}`);
  });
  const scopes = new SessionScopes();
  const tokens = new SessionTokens(signer, config.MAX_AUTH_BYTES);
  let mode: Partial<Application>;
  let summary: string;

  switch (config.AUTH_MODE) {
    case 'password': {
      const table = watchFile<PasswordTable>({
        key: 'PASSWORD_FILE', path: config.PASSWORD_FILE, log,
        parse: parsePasswordFile,
        describe: (entries) => `${entries.size} client${entries.size === 1 ? '' : 's'}`,
      });
      files.push(table);
      mode = passwordApplication({ table, tokens, scopes, bound, log });
      summary = `passwords from ${config.PASSWORD_FILE} (${table.current.size} clients)`;
      break;
    }
    case 'jwt': {
      const verifier = verifierFromConfig(config, log);
      mode = jwtApplication({ config, tokens, scopes, log, verifier });
      summary = `JWT, ${verifier.describe}` + (config.JWT_AUDIENCE ? `, audience ${config.JWT_AUDIENCE}` : '') + (config.JWT_ISSUER ? `, issuer ${config.JWT_ISSUER}` : '');
      break;
    }
    case 'http': {
      const url = new URL(config.AUTH_HTTP_URL);
      if (url.protocol === 'http:' && !isLoopback(url)) {
        log.warn(`AUTH_HTTP_URL is plain http to ${url.host}: what clients send in auth (passwords too) crosses the network unencrypted`);
      }
      const poster = new JsonPoster(url, config.AUTH_HTTP_TIMEOUT_MS, config.AUTH_MAX_PENDING);
      closers.push(() => poster.close());
      mode = httpApplication({ poster, tokens, scopes, bound, log });
      // The URL without any user:password in it.
      summary = `HTTP service ${url.origin}${url.pathname} (timeout ${config.AUTH_HTTP_TIMEOUT_MS} ms)`;
      break;
    }
    default:
      mode = sampleApplication(signer, log);
      summary = 'the sample application';
  }

  let acl: Reloadable<AclRules> | null = null;
  if (config.ACL_FILE) {
    acl = watchFile<AclRules>({
      key: 'ACL_FILE', path: config.ACL_FILE, log,
      parse: parseAcl,
      describe: (rules) => `${rules.ruleCount} rules, ${rules.clients.size} client sections`,
    });
    files.push(acl);
    summary += `; access rules from ${config.ACL_FILE}`;
  } else {
    summary += '; no ACL_FILE: every channel allowed' + (config.AUTH_MODE === 'jwt' || config.AUTH_MODE === 'http' ? ' (but what a session was granted)' : '');
  }
  const rules = acl;
  // The sample application without rules stays exactly what it was; scopes only come from jwt and http.
  const controlled = rules || config.AUTH_MODE === 'jwt' || config.AUTH_MODE === 'http'
    ? withAccessControl(mode, { rules: () => rules?.current ?? null, scopes, log })
    : mode;
  const inner = controlled.attach;
  const application: Partial<Application> = {
    ...controlled,
    attach(server: ServerApi) {
      api = server;
      inner?.call(controlled, server);
    },
  };
  return {
    application,
    summary: `authentication: ${summary}`,
    reload: async () => (await Promise.all(files.map((file) => file.reload()))).every(Boolean),
    close,
  };
}
