/**
 * The eight application hooks of the original server (protocol 8.1), as
 * one typed object with safe defaults: with no application a
 * broker opens no session, and every other request is allowed.
 * Each hook may answer synchronously or with a Promise; one that throws or
 * rejects answers 5 SERVER_ERROR to the client and logs the error.
 */
import type { Json } from '../shared/packets';
import type { TransportName } from '../shared/keys';
import { Status } from '../shared/status';
import type { ServerApi } from './server-api';

export type MaybePromise<T> = T | Promise<T>;

/** Who is asking: passed to every hook. */
export interface Peer {
  /** The session's client id; `''` before `conn` succeeded. */
  clientId: string;
  remoteHost: string;
  protocol: TransportName;
}

export interface AuthResult {
  status: number;
  clientId?: string;
  token?: string;
  /** Reason given to the client when status is not OK. */
  message?: string;
}

export interface ControlResult {
  status: number;
  data?: Json;
}

export interface Application {
  /** Authentication validator: `auth` data → status, client id and token. Default: refused (7). */
  authenticate(data: Json, peer: Peer): MaybePromise<AuthResult>;
  /** Connection validator: `conn` client id and token → status. Default: 6, no session without an application. */
  validateConnection(clientId: string, token: string, peer: Peer): MaybePromise<number>;
  /** Subscription validator. Default: OK. */
  validateSubscription(channel: string, persistent: boolean, peer: Peer): MaybePromise<number>;
  /** Unsubscription validator. Default: OK. */
  validateUnsubscription(channel: string, peer: Peer): MaybePromise<number>;
  /** Publish validator, for normal and P2P channels. Default: OK. */
  validatePublish(channel: string, data: Json, qos: 0 | 1, peer: Peer): MaybePromise<number>;
  /** Control channel handler for `$` channels other than the built-in ones. Default: 7. */
  handleControl(channel: string, data: Json, peer: Peer): MaybePromise<ControlResult>;
  /** Disconnection notifier: the client sent `disconn`. */
  onDisconnect(peer: Peer): void;
  /** Connection close notifier: any session end (disconn, close, takeover, idle). */
  onConnectionClose(peer: Peer): void;
  /** Called once the broker runs, with the server-side calls (force sub/unsub/pub, …). */
  attach?(server: ServerApi): void;
}

export const defaultApplication: Application = {
  authenticate: () => ({ status: Status.NOT_ALLOWED, message: 'no authentication validator is configured' }),
  validateConnection: () => Status.INVALID_TOKEN,
  validateSubscription: () => Status.OK,
  validateUnsubscription: () => Status.OK,
  validatePublish: () => Status.OK,
  handleControl: () => ({ status: Status.NOT_ALLOWED, data: { error: 'unknown control channel' } }),
  onDisconnect: () => undefined,
  onConnectionClose: () => undefined,
};

/** Fills the hooks an application left out with the defaults. */
export function withDefaults(application: Partial<Application>): Application {
  return { ...defaultApplication, ...application };
}
