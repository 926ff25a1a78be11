/** Public shapes of the SDK: answers, events, options. */
import type { Json } from '../packets';
import type { JmqtError } from './errors';
import type { BackoffOptions } from './backoff';
import type { HeartbeatTiming } from './heartbeat';

/** authAck (JMQT 3): `token` and `clientId` when status is 1, else `message`. */
export interface AuthAnswer {
  status: number;
  token?: string;
  clientId?: string;
  message?: string;
}

/** connAck (JMQT 3): `ts`, the server's idle timeout in seconds, when status is 1. */
export interface ConnAnswer {
  status: number;
  ts?: number;
}

/** subAck / unsubAck (JMQT 3). */
export interface SubAnswer {
  status: number;
  channel: string;
}

/**
 * pubAck (JMQT 3): `id` echoes the pub's id, `data` is the control channel's
 * response. A QoS 0 pub to a normal channel gets no pubAck: its answer is
 * `{status: 1}` once the packet is written, with no `id`.
 */
export interface PubAnswer {
  status: number;
  id?: string;
  data?: Json;
}

export interface PubOptions {
  /** JMQT 5: 0 at most once, 1 stored until each subscriber acks; default 0. */
  qos?: 0 | 1;
  /** Keep as the channel's retained message (JMQT 5 Retained); default false. */
  retain?: boolean;
}

/** One message delivered by the server (JMQT 3 `push`). */
export interface PushEvent {
  channel: string;
  /** Sender's client id, `""` when the server published. */
  sender: string;
  data: Json;
  qos: 0 | 1;
  /** True for the retained message sent on sub / session start (JMQT 5 Retained). */
  retained: boolean;
  /** Server's id of a QoS 1 push; the client has already sent its pushAck. */
  id?: string;
}

/**
 * - `closed`: no connection, none coming;
 * - `connecting`: the transport is opening;
 * - `open`: the transport is up, no session yet (only auth and conn are served, JMQT 5);
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
   * new token; `true` uses the default backoff. Default false.
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
