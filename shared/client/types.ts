/** Public shapes of the SDK: answers, events, options. */
import type { Json } from '../packets';
import type { JmqtError } from './errors';
import type { BackoffOptions } from './backoff';
import type { HeartbeatTiming } from './heartbeat';

/** authAck (protocol 3.2): `token` and `clientId` when status is 1, else `message`. */
export interface AuthAnswer {
  status: number;
  token?: string;
  clientId?: string;
  message?: string;
}

/** connAck (protocol 3.3): `ts`, the server's idle timeout in seconds, when status is 1. */
export interface ConnAnswer {
  status: number;
  ts?: number;
}

/** subAck / unsubAck (protocol 3.5, 3.6). */
export interface SubAnswer {
  status: number;
  channel: string;
}

/**
 * pubAck (protocol 3.7): `id` echoes the pub's id, `data` is the control channel's
 * response. A QoS 0 pub to a normal channel gets no pubAck: its answer is
 * `{status: 1}` once the packet is written, with the `id` only when one was
 * given (PubOptions.id). That 1 means "written", not "accepted".
 */
export interface PubAnswer {
  status: number;
  id?: string;
  data?: Json;
}

export interface PubOptions {
  /** Protocol 7.3, 7.4: 0 at most once, 1 stored until each subscriber acks; default 0. */
  qos?: 0 | 1;
  /** Keep as the channel's retained message (protocol 7.9); default false. */
  retain?: boolean;
  /**
   * The pub's id (protocol 3.7, 7.5). Default: a fresh one for QoS 1 and `$`
   * channels, none for a QoS 0 pub. Give one to a QoS 0 pub so that a
   * refusal comes back (protocol 7.2: such a pub is answered only when its
   * status is not 1); the refusal arrives as a `pubAck` event. Must not be
   * reused within the broker's resend window (protocol 7.7).
   */
  id?: string;
}

/**
 * A pubAck that no request is waiting for: the refusal of a QoS 0 pub sent
 * with an id (protocol 7.2), or an answer that came after its request timed out.
 */
export interface PubAckEvent {
  status: number;
  id: string;
  data?: Json;
}

/** One message delivered by the server (`push`, protocol 3.8). */
export interface PushEvent {
  channel: string;
  /** Sender's client id, `""` when the server published. */
  sender: string;
  data: Json;
  qos: 0 | 1;
  /** True for the retained message sent on sub / session start (protocol 7.9). */
  retained: boolean;
  /** Server's id of a QoS 1 push; the client has already sent its pushAck. */
  id?: string;
}

/**
 * - `closed`: no connection, none coming;
 * - `connecting`: the transport is opening;
 * - `open`: the transport is up, no session yet (only auth and conn are served, protocol 5.6);
 * - `session`: connAck said OK: sub, unsub, pub work;
 * - `reconnecting`: waiting for the next reconnect attempt.
 */
export type ClientState = 'closed' | 'connecting' | 'open' | 'session' | 'reconnecting';

export interface StateEvent {
  state: ClientState;
  previous: ClientState;
}

export interface DisconnectEvent {
  /** e.g. `heartbeat timeout`, `client disconnect`, `connection closed by server`. */
  reason: string;
  /** True when automatic reconnect will try again. */
  willReconnect: boolean;
}

export interface JmqtClientEvents {
  push: PushEvent;
  /** An open connection ended. */
  disconnect: DisconnectEvent;
  state: StateEvent;
  /** A pubAck nobody waits for, e.g. the refusal of a QoS 0 pub with an id (protocol 7.2). */
  pubAck: PubAckEvent;
  /** The server sent something that is not a JMQT packet (code `protocol`, status 10); it was ignored. */
  error: JmqtError;
}

export interface JmqtClientOptions {
  /** How long every request waits for its answer, in ms; default 10000. */
  requestTimeoutMs?: number;
  /** How long open() waits for the transport, in ms; default `requestTimeoutMs`. */
  connectTimeoutMs?: number;
  /**
   * Reconnect when the connection drops (or cannot be made) until
   * disconnect() is called, re-sending the last auth data and conn with the
   * new token; `true` uses the default backoff. Default false. Never after
   * a takeover (WebSocket close 4000) or a kick (4001); at once, without
   * backoff, after a drain of the node (4002: rolling restart).
   */
  reconnect?: boolean | BackoffOptions;
  /**
   * Heartbeat after a successful conn: default (undefined) derives the
   * timing from connAck `ts` (hb every max(1, ts - 2) s, dead after ts s);
   * an explicit timing overrides it; false sends none.
   */
  heartbeat?: boolean | HeartbeatTiming;
  /** Source of pub ids; default a random prefix plus a counter. */
  nextId?: () => string;
}
