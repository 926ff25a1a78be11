/**
 * Access control as hooks (protocol 13.6, 13.7): wraps any application's
 * subscription validator, publish validator and control channel handler so
 * that a request the ACL rules (ACL_FILE) or the session's own scope (JWT
 * claims, HTTP answer) do not allow is refused with 7 before the application
 * is asked. Everything else is the wrapped application's, unchanged.
 *
 * - `sub`: read access to the channel. `unsub` is never refused here.
 * - `pub` to a normal or `#id` channel: write access to it (protocol 8.1: the
 *   publish validator sees both).
 * - `pub` to a `$name` channel: write access to `$name`. Built-in control
 *   channels (`$mySubscriptions`, protocol 6.5) are answered before any hook.
 * - The session's own `#clientId` subscription is the server's (protocol 5.4)
 *   and never passes a hook; it is always allowed.
 *
 * The QoS 0 path stays synchronous: no Promise is added to a synchronous validator.
 */
import { Status } from '../../shared/status';
import type { Json } from '../../shared/packets';
import { defaultApplication, type Application, type ControlResult, type MaybePromise, type Peer } from '../hooks';
import type { Logger } from '../log';
import { quote } from '../log-text';
import type { Access, AclRules } from './acl';
import { scopeAllows, type SessionScopes } from './grants';

export interface AccessControlOptions {
  /** The rules in force now (a reload replaces them); null: no ACL file, everything the scope allows is allowed. */
  rules: () => AclRules | null;
  /** Per-session narrowing; the session tokens' validator fills it. */
  scopes?: SessionScopes;
  log?: Logger;
}

export const REFUSED_CONTROL: ControlResult = { status: Status.NOT_ALLOWED, data: { error: 'not allowed' } };

/** Whether `peer` may `access` `channel`: the file's rules, then the session's scope, which only narrows. */
export function accessAllowed(options: AccessControlOptions, peer: Peer, access: Access, channel: string): boolean {
  const clientId = peer.clientId;
  if (access === 'read' && channel === '#' + clientId) return true;
  const rules = options.rules();
  if (rules && !rules.allows(clientId, access, channel)) return false;
  const scope = options.scopes?.get(peer);
  return !scope || scopeAllows(scope, access, channel, clientId);
}

export function withAccessControl(inner: Partial<Application>, options: AccessControlOptions): Partial<Application> {
  const allowed = (peer: Peer, access: Access, channel: string): boolean => {
    if (accessAllowed(options, peer, access, channel)) return true;
    options.log?.debug(`access rules refuse ${access} of ${quote(channel)} to client ${quote(peer.clientId)}`);
    return false;
  };
  return {
    ...inner,
    validateSubscription(channel: string, persistent: boolean, peer: Peer): MaybePromise<number> {
      if (!allowed(peer, 'read', channel)) return Status.NOT_ALLOWED;
      return inner.validateSubscription ? inner.validateSubscription(channel, persistent, peer) : Status.OK;
    },
    validatePublish(channel: string, data: Json, qos: 0 | 1, peer: Peer): MaybePromise<number> {
      if (!allowed(peer, 'write', channel)) return Status.NOT_ALLOWED;
      return inner.validatePublish ? inner.validatePublish(channel, data, qos, peer) : Status.OK;
    },
    handleControl(channel: string, data: Json, peer: Peer): MaybePromise<ControlResult> {
      if (!allowed(peer, 'write', channel)) return REFUSED_CONTROL;
      return inner.handleControl ? inner.handleControl(channel, data, peer) : defaultApplication.handleControl(channel, data, peer);
    },
  };
}
