/**
 * The broker: sessions registry, subscriptions, and the server-side API.
 * Transports hand it connections; handlers/ turn packets into calls on it.
 */
import type { Json } from '../shared/packets';
import { p2pChannel, channelKind, normaliseChannel } from '../shared/channel';
import type { Config } from './config';
import type { Application, Peer } from './hooks';
import type { Logger } from './log';
import type { ServerApi, ServerPublishOptions } from './server-api';
import { Session, type SessionHost } from './session';
import type { Storage } from './storage/storage';
import { SubscriptionIndex } from './subscription-index';
import { newCounters } from './stats';
import { dispatchText } from './handlers';
import { Publisher, type Publication } from './publish';
import { replayOnSessionStart } from './replay';
import type { Wire } from './outbound';
import type { TransportName } from '../shared/keys';

export class Broker implements SessionHost, ServerApi {
  readonly counters = newCounters();
  readonly index = new SubscriptionIndex();
  /** Every open connection, with or without a session: the idle sweep walks these. */
  readonly connections = new Set<Session>();
  /** client id → its one live session (JMQT 5: a new session takes over). */
  readonly sessions = new Map<string, Session>();
  readonly publisher: Publisher;
  readonly outboundLimit: number;
  readonly startedAt = Date.now();
  /** Session ends in progress, awaited by a new session of the same client id. */
  private readonly ending = new Map<string, Promise<void>>();
  private sweepTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly config: Config,
    readonly storage: Storage,
    readonly app: Application,
    readonly log: Logger,
  ) {
    this.outboundLimit = config.OUTBOUND_BUFFER_BYTES;
    this.publisher = new Publisher(this);
  }

  async start(): Promise<void> {
    // After a restart no session survives, so neither do temporary subscriptions (JMQT 5).
    const removed = await this.storage.removeAllTemporary();
    if (removed > 0) this.log.info(`removed ${removed} temporary subscriptions left by the previous run`);
    for (const record of await this.storage.allSubscriptions()) this.index.add(record);
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    this.app.attach?.(this);
  }

  /** Closes every connection and waits for their session ends. */
  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const session of this.connections) session.close('server shutting down');
    await Promise.all([...this.ending.values()]);
    this.publisher.stop();
  }

  /** A transport accepted a connection. */
  accept(wire: Wire, protocol: TransportName, remoteHost: string): Session {
    const session = new Session(this, wire, protocol, remoteHost);
    this.connections.add(session);
    this.log.debug(`connection opened from ${remoteHost} over ${protocol}`);
    return session;
  }

  handleText(session: Session, text: string): void | Promise<void> {
    this.counters.packetsIn++;
    return dispatchText(this, session, text);
  }

  countOut(pushes: number): void {
    this.counters.messagesOut += pushes;
  }

  countPacketOut(): void {
    this.counters.packetsOut++;
  }

  countDroppedPush(): void {
    this.counters.droppedPushes++;
  }

  /** JMQT 5: nothing from the client for `ts` seconds ends its session; a silent new socket too. */
  private sweep(): void {
    const limit = Date.now() - this.config.TIMEOUT_SECONDS * 1000;
    for (const session of this.connections) {
      if (session.lastSeen < limit) session.close('idle timeout');
    }
    this.publisher.expireDedupe();
  }

  /**
   * Starts the session of `clientId` on this connection, after the connection
   * validator said OK: takeover, `#clientId`, then the caller sends connAck and
   * calls replay().
   */
  async openSession(session: Session, clientId: string): Promise<void> {
    const previous = this.sessions.get(clientId);
    // Claimed before any await, so two racing conns cannot both win.
    this.sessions.set(clientId, session);
    session.clientId = clientId;
    session.state = 'session';
    if (previous && previous !== session) {
      this.log.info(`${previous.describe()} taken over by a new session from ${session.remoteHost} over ${session.protocol}`);
      previous.close('taken over by a new session');
    }
    const pending = this.ending.get(clientId);
    if (pending) await pending;
    // JMQT 5: the server, not the client, subscribes every session to its P2P channel.
    await this.subscribe(clientId, p2pChannel(clientId), true);
    this.log.info(`session started: ${session.describe()}`);
  }

  /** After connAck: stored QoS 1 messages, oldest first, then retained messages (JMQT 5). */
  replay(session: Session): Promise<void> {
    return replayOnSessionStart(this, session);
  }

  sessionClosed(session: Session, reason: string): void {
    this.connections.delete(session);
    if (session.state !== 'session') {
      this.log.debug(`connection from ${session.remoteHost} over ${session.protocol} closed: ${reason}`);
      return;
    }
    const clientId = session.clientId;
    this.log.info(`session ended (${reason}): ${session.describe()}`);
    if (this.sessions.get(clientId) === session) this.sessions.delete(clientId);
    const previous = this.ending.get(clientId) ?? Promise.resolve();
    const end = previous.then(() => this.endSession(session));
    this.ending.set(clientId, end);
    end.finally(() => {
      if (this.ending.get(clientId) === end) this.ending.delete(clientId);
    });
  }

  /**
   * Runs after the previous end of the same client id; a new session of that
   * client waits for it before subscribing anything, so the temporary
   * subscriptions removed here are always the ended session's own.
   */
  private async endSession(session: Session): Promise<void> {
    const peer: Peer = { clientId: session.clientId, remoteHost: session.remoteHost, protocol: session.protocol };
    try {
      const channels = await this.storage.removeTemporary(session.clientId);
      for (const channel of channels) this.index.remove(session.clientId, channel);
    } catch (error) {
      this.log.error(`removing temporary subscriptions of ${session.describe()}: ${(error as Error).message}`);
    }
    this.notify(() => session.disconnected && this.app.onDisconnect(peer), 'disconnection notifier');
    this.notify(() => this.app.onConnectionClose(peer), 'connection close notifier');
  }

  private notify(call: () => unknown, hook: string): void {
    try {
      const result = call();
      if (result instanceof Promise) result.catch((error: Error) => this.log.error(`${hook} failed: ${error.message}`));
    } catch (error) {
      this.log.error(`${hook} failed: ${(error as Error).message}`);
    }
  }

  async subscribe(clientId: string, channel: string, persistent: boolean): Promise<void> {
    await this.storage.subscribe({ clientId, channel, persistent });
    this.index.add({ clientId, channel, persistent });
  }

  async unsubscribe(clientId: string, channel: string): Promise<boolean> {
    const existed = await this.storage.unsubscribe(clientId, channel);
    return this.index.remove(clientId, channel) || existed;
  }

  publish(publication: Publication): number | Promise<number> {
    return this.publisher.publish(publication);
  }

  // ServerApi (protocol page, section 6)

  async subscriptionsOf(clientId: string): Promise<Map<string, boolean>> {
    return new Map(this.index.channelsOf(clientId) ?? []);
  }

  async forceSubscribe(clientId: string, channel: string, persistent: boolean): Promise<void> {
    const name = checkServerChannel(channel);
    if (channelKind(name) === 'control') throw new Error(`cannot subscribe to control channel '${name}'`);
    await this.subscribe(clientId, name, persistent);
  }

  forceUnsubscribe(clientId: string, channel: string): Promise<boolean> {
    return this.unsubscribe(clientId, checkServerChannel(channel));
  }

  async forcePublish(channel: string, data: Json, options: ServerPublishOptions = {}): Promise<void> {
    const name = checkServerChannel(channel);
    if (channelKind(name) === 'control') throw new Error(`cannot publish to control channel '${name}'`);
    await this.publish({ channel: name, data, qos: options.qos ?? 0, retain: options.retain ?? false, sender: '' });
  }

  isConnected(clientId: string): boolean {
    return this.sessions.has(clientId);
  }
}

function checkServerChannel(channel: string): string {
  const name = normaliseChannel(channel);
  if (name === null) throw new Error(`'${channel}' is not a channel name`);
  return name;
}
