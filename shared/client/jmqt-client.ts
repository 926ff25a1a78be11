/**
 * JmqtClient: the JMQT 1.0 client over any Transport, with promises for
 * requests and events for what the server sends unasked.
 *
 * Answers and failures: every server answer resolves, whatever its status
 * (compare `answer.status` with `Status.OK`). A promise rejects only with a
 * JmqtError, when no answer can come: `timeout` (status -1) or `network`
 * (status 9: not connected, or the connection went away while waiting).
 */
import { isFinalCloseReason, isReconnectNowReason } from '../keys';
import { channelKind, normaliseChannel } from '../channel';
import { decode, encode } from '../codec';
import type { ClientPacket, Json, PushPacket, ServerPacket } from '../packets';
import { Status } from '../status';
import { backoffDelay, type BackoffOptions } from './backoff';
import { Emitter } from './emitter';
import { JmqtError } from './errors';
import { Heartbeat, heartbeatTiming } from './heartbeat';
import { createIdGenerator } from './ids';
import { RequestTable } from './requests';
import type { Transport } from './transport';
import type {
  AuthAnswer, ClientState, ConnAnswer, JmqtClientEvents, JmqtClientOptions, PubAnswer, PubOptions, SubAnswer,
} from './types';

/** Ack keys (see RequestTable): the server trims channel names (protocol 6.1), so keys use the trimmed name. */
const channelKey = (ack: 'subAck' | 'unsubAck', name: string) => `${ack}:${normaliseChannel(name) ?? name}`;
const pubKey = (id: string | number) => `pubAck:${id}`;

export class JmqtClient extends Emitter<JmqtClientEvents> {
  private readonly requests: RequestTable;
  private readonly heartbeat: Heartbeat;
  private readonly nextId: () => string;
  private readonly backoff: BackoffOptions | null;
  private current: ClientState = 'closed';
  private opening: { promise: Promise<void>; resolve(): void; reject(error: JmqtError): void } | null = null;
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  /** The application wants a connection: reconnect is allowed. */
  private wanted = false;
  private lastAuth: { data: Json } | null = null;
  private lastConn: { clientId: string; token: string } | null = null;
  /** Non-persistent subscriptions: the server drops them with the session (protocol 5.9), reconnect renews them. */
  private readonly tempSubs = new Set<string>();

  constructor(
    readonly transport: Transport,
    private readonly options: JmqtClientOptions = {},
  ) {
    super();
    this.requests = new RequestTable(options.requestTimeoutMs ?? 10_000);
    this.nextId = options.nextId ?? createIdGenerator();
    this.backoff = options.reconnect ? (options.reconnect === true ? {} : options.reconnect) : null;
    this.heartbeat = new Heartbeat(
      () => this.write({ type: 'hb' }),
      () => this.transport.close('heartbeat timeout'),
    );
    transport.on('open', () => this.onOpen());
    transport.on('message', (text) => this.onMessage(text));
    transport.on('close', (reason) => this.onClose(reason));
  }

  get state(): ClientState {
    return this.current;
  }

  /** Client id of the last successful conn. */
  get clientId(): string | undefined {
    return this.lastConn?.clientId;
  }

  /** Opens the transport; resolves when it is up. Rejects with JmqtError 9 when it cannot be opened in time. */
  open(): Promise<void> {
    this.wanted = true;
    if (this.current === 'open' || this.current === 'session') return Promise.resolve();
    if (this.opening) return this.opening.promise;
    clearTimeout(this.retryTimer);
    return this.startOpen();
  }

  /** Protocol 5.1: asks for a client id and token. Opens the transport first when closed. */
  async auth(data: Json): Promise<AuthAnswer> {
    this.lastAuth = { data };
    if (this.current === 'closed' || this.current === 'connecting') await this.open();
    return this.request<AuthAnswer>('authAck', { type: 'auth', dt: data });
  }

  /** Protocol 5.2: opens the session; on OK the heartbeat starts and the state becomes `session`. */
  async conn(clientId: string, token: string): Promise<ConnAnswer> {
    const answer = await this.request<ConnAnswer>('connAck', { type: 'conn', at: token, cl: clientId });
    if (answer.status === Status.OK && (this.current === 'open' || this.current === 'session')) {
      this.lastConn = { clientId, token };
      this.attempt = 0;
      this.setState('session');
      if (this.options.heartbeat !== false) {
        this.heartbeat.start(typeof this.options.heartbeat === 'object' ? this.options.heartbeat : heartbeatTiming(answer.ts));
      }
    }
    return answer;
  }

  /**
   * Subscribes (`persistent` default false). A name that is empty after
   * trimming, or `$` / `#` alone, answers 11 without a round trip (protocol 6.1).
   */
  async sub(channel: string, persistent = false): Promise<SubAnswer> {
    const name = normaliseChannel(channel);
    if (name === null) return { status: Status.INVALID_CHANNEL, channel };
    // compat: `pr` is always sent, as the reference clients do.
    const answer = await this.request<SubAnswer>(channelKey('subAck', name), { type: 'sub', cn: name, pr: persistent ? 1 : 0 });
    if (answer.status === Status.OK) {
      if (persistent) this.tempSubs.delete(name);
      else this.tempSubs.add(name);
    }
    return answer;
  }

  /** Unsubscribes; same name rule as sub(). */
  async unsub(channel: string): Promise<SubAnswer> {
    const name = normaliseChannel(channel);
    if (name === null) return { status: Status.INVALID_CHANNEL, channel };
    const answer = await this.request<SubAnswer>(channelKey('unsubAck', name), { type: 'unsub', cn: name });
    if (answer.status === Status.OK) this.tempSubs.delete(name);
    return answer;
  }

  /**
   * Publishes `data` (options default: QoS 0, no retain). QoS 1 pubs and pubs
   * to `$` control channels carry an id (`options.id` or a fresh one) and
   * resolve with the pubAck; a QoS 0 pub to any other channel resolves
   * `{status: 1}` once written (protocol 7.2: no pubAck). A QoS 0 pub given
   * `options.id` carries it, so that a refusal comes back as a `pubAck` event.
   */
  async pub(channel: string, data: Json, options: PubOptions = {}): Promise<PubAnswer> {
    const name = normaliseChannel(channel);
    if (name === null) return { status: Status.INVALID_CHANNEL };
    const q = options.qos === 1 ? 1 : 0;
    const rt = options.retain ? 1 : 0;
    if (q === 0 && channelKind(name) !== 'control') {
      this.assertConnected();
      const id = options.id;
      // JSON leaves an undefined id out: without one the pub is never answered.
      await this.transport.send(encode({ type: 'pub', cn: name, dt: data, q, rt, id })).catch((error: Error) => {
        this.transport.close(error.message);
        throw JmqtError.network(error.message);
      });
      return id === undefined ? { status: Status.OK } : { status: Status.OK, id };
    }
    const id = options.id ?? this.nextId();
    return this.request<PubAnswer>(pubKey(id), { type: 'pub', cn: name, dt: data, q, rt, id }, false);
  }

  /**
   * Ends the connection and stops reconnecting. With `sendDisconn` (default
   * true) the server is told first, so it runs its disconnection notifier (protocol 5.9).
   * Requests still waiting reject with status 9.
   */
  async disconnect(sendDisconn = true): Promise<void> {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    if (sendDisconn && (this.current === 'open' || this.current === 'session')) {
      await this.transport.send(encode({ type: 'disconn' })).catch(() => undefined);
    }
    this.transport.close('client disconnect');
    if (this.current !== 'closed') this.setState('closed');
  }

  private startOpen(): Promise<void> {
    this.setState('connecting');
    let settle!: { resolve(): void; reject(error: JmqtError): void };
    const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.opening = { promise, ...settle };
    const ms = this.options.connectTimeoutMs ?? this.options.requestTimeoutMs ?? 10_000;
    this.openTimer = setTimeout(() => this.transport.close(`connect timeout after ${ms} ms`), ms);
    this.transport.connect();
    return promise;
  }

  private request<T>(key: string, packet: ClientPacket, ordered = true): Promise<T> {
    try {
      this.assertConnected();
    } catch (error) {
      return Promise.reject(error);
    }
    const answer = this.requests.wait<T>(key, ordered);
    this.write(packet);
    return answer;
  }

  private assertConnected(): void {
    if (this.current !== 'open' && this.current !== 'session') throw JmqtError.network(`not connected (state ${this.current})`);
  }

  /** Writes without waiting; a failed write means the link is gone, which rejects what waits. */
  private write(packet: ClientPacket): void {
    this.transport.send(encode(packet)).catch((error: Error) => this.transport.close(error.message));
  }

  private onOpen(): void {
    clearTimeout(this.openTimer);
    const opening = this.opening;
    this.opening = null;
    this.setState('open');
    opening?.resolve();
  }

  private onMessage(text: string): void {
    this.heartbeat.alive();
    const result = decode(text);
    if (!result.ok) {
      this.emit('error', new JmqtError(Status.INVALID_PACKET, 'protocol', `${result.message}: ${text.slice(0, 200)}`));
      return;
    }
    const packet = result.packet as ServerPacket;
    switch (packet.type) {
      case 'authAck':
        this.requests.answer('authAck', { status: packet.st, token: packet.at, clientId: packet.cl, message: packet.mg });
        break;
      case 'connAck':
        this.requests.answer('connAck', { status: packet.st, ts: packet.ts });
        break;
      case 'subAck':
      case 'unsubAck':
        this.requests.answer(channelKey(packet.type, packet.cn), { status: packet.st, channel: packet.cn });
        break;
      case 'pubAck':
        // Nobody waits for the refusal of a QoS 0 pub with an id (protocol 7.2), nor for a late answer: an event.
        // Without an id there is nothing to match it with.
        if (packet.id !== undefined) {
          const answer = { status: packet.st, id: String(packet.id), data: packet.dt };
          if (!this.requests.answer(pubKey(packet.id), answer)) this.emit('pubAck', answer);
        }
        break;
      case 'push':
        this.onPush(packet);
        break;
      case 'hbAck':
        break;
    }
  }

  private onPush(packet: PushPacket): void {
    const qos = packet.q === 1 ? 1 : 0;
    this.emit('push', { channel: packet.cn, sender: packet.cl, data: packet.dt, qos, retained: packet.rt === 1, id: packet.id });
    // Protocol 7.6: the server keeps a QoS 1 copy queued for us until it gets pushAck with that id.
    if (qos === 1 && packet.id !== undefined) this.write({ type: 'pushAck', id: packet.id, st: Status.OK });
  }

  private onClose(reason: string): void {
    clearTimeout(this.openTimer);
    this.heartbeat.stop();
    const wasUp = this.current === 'open' || this.current === 'session';
    const error = JmqtError.network(reason);
    const opening = this.opening;
    this.opening = null;
    opening?.reject(error);
    this.requests.rejectAll(error);
    // A newer session of our client id replaced us (reconnecting would only take it over in turn),
    // or an operator ended the session: either way, no reconnect.
    const willReconnect = this.wanted && this.backoff !== null && !isFinalCloseReason(reason);
    // A draining node (WebSocket 4002) asks for a reconnect at once: the load balancer sends it to another node.
    // Over TCP there is no close code: the ordinary backoff, whose first delay is short, applies.
    if (willReconnect) this.scheduleReconnect(isReconnectNowReason(reason));
    else this.setState('closed');
    if (wasUp) this.emit('disconnect', { reason, willReconnect });
  }

  /** `now`: no delay, and the attempt count is left as it is, so a failed retry waits the first backoff delay. */
  private scheduleReconnect(now = false): void {
    this.setState('reconnecting');
    const delay = now ? 0 : backoffDelay(this.attempt++, this.backoff ?? {});
    this.retryTimer = setTimeout(() => {
      this.startOpen().then(
        () => this.restoreSession(),
        () => undefined, // onClose has already scheduled the next attempt
      );
    }, delay);
  }

  /** Reconnect: the last auth data again, then conn with the new token, then the temporary subscriptions. */
  private async restoreSession(): Promise<void> {
    try {
      let creds = this.lastConn;
      if (this.lastAuth) {
        const auth = await this.auth(this.lastAuth.data);
        const clientId = auth.clientId ?? creds?.clientId;
        if (auth.status !== Status.OK || !auth.token || !clientId) return this.giveUp(`reconnect: auth answered status ${auth.status}`);
        creds = { clientId, token: auth.token };
      }
      if (!creds) return; // nothing to restore beyond the link
      const conn = await this.conn(creds.clientId, creds.token);
      if (conn.status !== Status.OK) return this.giveUp(`reconnect: conn answered status ${conn.status}`);
      for (const channel of this.tempSubs) this.sub(channel, false).catch(() => undefined);
    } catch (error) {
      // A stuck link: drop it and let the backoff try again. A network error has already done so.
      if (error instanceof JmqtError && error.code === 'timeout') this.transport.close('reconnect: no answer');
    }
  }

  /** The server refused the stored credentials: retrying would only repeat the refusal. */
  private giveUp(reason: string): void {
    this.wanted = false;
    this.transport.close(reason);
  }

  private setState(state: ClientState): void {
    if (state === this.current) return;
    const previous = this.current;
    this.current = state;
    this.emit('state', { state, previous });
  }
}
