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
import { ConnectionGuard, connectionCap } from './limits/connection-guard';
import { PublishRate } from './limits/publish-rate';
import { quote } from './log-text';
import { BrokerMetrics } from './metrics';
import { Cluster } from './cluster/cluster';
import type { ClusterBus } from './cluster/bus';
import type { Ownership } from './cluster/ownership';
import { QueueDepths } from './limits/queue-depths';

/** Client ids expired per storage call. */
const EXPIRY_BATCH = 500;
/** Longest wait between two expiry runs, ms. */
const EXPIRY_SWEEP_MAX_MS = 10 * 60_000;

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
  readonly queueDepths: QueueDepths;
  readonly metrics: BrokerMetrics;
  readonly cluster: Cluster;
  private readonly guard: ConnectionGuard;
  /** Per limit key: when it was last logged and how many hits went unlogged since, so a flood writes one line a second. */
  private readonly limitLog = new Map<string, { at: number; suppressed: number }>();
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Session ends in progress, awaited by a new session of the same client id. */
  private readonly ending = new Map<string, Promise<void>>();
  private sweepTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly config: Config,
    readonly storage: Storage,
    readonly app: Application,
    readonly log: Logger,
    cluster: { bus: ClusterBus; ownership: Ownership; enabled: boolean },
  ) {
    this.cluster = new Cluster(this, cluster.bus, cluster.ownership, cluster.enabled);
    this.outboundLimit = config.OUTBOUND_BUFFER_BYTES;
    this.publisher = new Publisher(this);
    this.queueDepths = new QueueDepths(storage);
    this.metrics = new BrokerMetrics(this);
    this.guard = new ConnectionGuard(connectionCap(config.MAX_CONNECTIONS), config.MAX_CONNECTIONS_PER_ADDRESS, config.CONNECTION_RATE_PER_ADDRESS);
  }

  /** Counts and logs a limit being hit; `key` is the configuration key that set it. */
  limitHit(key: string, detail: string): void {
    this.counters.limitHits[key] = (this.counters.limitHits[key] ?? 0) + 1;
    const now = Date.now();
    const last = this.limitLog.get(key);
    if (last && now - last.at < 1000) {
      last.suppressed++;
      return;
    }
    const more = last && last.suppressed > 0 ? ` (and ${last.suppressed} more hits not logged)` : '';
    this.limitLog.set(key, { at: now, suppressed: 0 });
    this.log.warn(`limit ${key} hit: ${detail}${more}`);
  }

  /**
   * Whether a new connection from `remoteHost` may open (connections and
   * attempts per address). A refused one must be closed by the transport.
   */
  admit(remoteHost: string): boolean {
    const refusal = this.guard.admit(remoteHost);
    if (refusal === null) return true;
    const key = { connections: 'MAX_CONNECTIONS', 'connections per address': 'MAX_CONNECTIONS_PER_ADDRESS', 'connection rate per address': 'CONNECTION_RATE_PER_ADDRESS' }[refusal];
    this.limitHit(key, `connection from ${remoteHost} refused`);
    return false;
  }

  /** An admitted socket closed. */
  release(remoteHost: string): void {
    this.guard.release(remoteHost);
  }

  countThrottled(session: Session): void {
    this.counters.throttledClients++;
    this.limitHit('PUBLISH_RATE_MESSAGES', `${session.describe()} is over its publish budget (PUBLISH_RATE_MESSAGES or PUBLISH_RATE_BYTES): reading paused`);
  }

  newPublishRate(): PublishRate | null {
    const { PUBLISH_RATE_MESSAGES: messages, PUBLISH_RATE_BYTES: bytes } = this.config;
    return PublishRate.enabled(messages, bytes) ? new PublishRate(messages, bytes) : null;
  }

  async start(): Promise<void> {
    // After a restart of a single node no session survives, so neither do
    // temporary subscriptions (JMQT 5). In a cluster the other nodes' are live;
    // a new session of the same client removes its leftovers instead.
    if (!this.cluster.enabled) {
      const removed = await this.storage.removeAllTemporary();
      if (removed > 0) this.log.info(`removed ${removed} temporary subscriptions left by the previous run`);
    }
    await this.reloadSubscriptions();
    await this.queueDepths.load();
    await this.cluster.start();
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    this.scheduleExpiry();
    this.app.attach?.(this);
  }

  async reloadSubscriptions(): Promise<void> {
    const records = await this.storage.allSubscriptions();
    this.index.clear();
    for (const record of records) this.index.add(record);
  }

  /** Closes every connection and waits for their session ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    for (const session of this.connections) session.close('server shutting down');
    await Promise.all([...this.ending.values()]);
    await this.cluster.stop();
    this.publisher.stop();
  }

  /** A transport accepted a connection that admit() let through. */
  accept(wire: Wire, protocol: TransportName, remoteHost: string): Session {
    const session = new Session(this, wire, protocol, remoteHost);
    this.connections.add(session);
    this.log.debug(`connection opened from ${remoteHost} over ${protocol}`);
    return session;
  }

  /** Open connections per transport, every transport named. */
  connectionsByTransport(): Record<TransportName, number> {
    const counts: Record<TransportName, number> = { SOCKET: 0, SSL_SOCKET: 0, WEB_SOCKET: 0, SSL_WEB_SOCKET: 0 };
    for (const session of this.connections) counts[session.protocol]++;
    return counts;
  }

  handleText(session: Session, text: string): void | Promise<void> {
    this.counters.packetsIn++;
    return dispatchText(this, session, text);
  }

  countOut(pushes: number): void {
    this.counters.messagesOut += pushes;
  }

  countPacketOut(type: string): void {
    this.counters.packetsOut++;
    this.counters.packetsOutByType[type]!++;
  }

  countDroppedPush(): void {
    this.counters.droppedPushes++;
  }

  countDeferredPush(): void {
    this.counters.deferredPushes++;
  }

  /**
   * Once a second. JMQT 5: nothing from the client for `ts` seconds ends its
   * session; a silent new socket too. Also the connect deadline and slow consumers.
   */
  private sweep(): void {
    const now = Date.now();
    const idleSince = now - this.config.TIMEOUT_SECONDS * 1000;
    const connectBy = now - this.config.CONNECT_TIMEOUT_SECONDS * 1000;
    const slowFor = this.config.SLOW_CONSUMER_SECONDS * 1000;
    for (const session of this.connections) {
      // A connection the broker stopped reading (outbound full, throttled) is silent by the broker's doing.
      if (session.lastSeen < idleSince && session.reading) {
        session.close('idle timeout');
      } else if (session.state === 'open' && session.connectedAt < connectBy) {
        this.limitHit('CONNECT_TIMEOUT_SECONDS', `no session ${this.config.CONNECT_TIMEOUT_SECONDS} s after ${session.describe()} connected`);
        session.close('no conn in time');
      } else if (session.bufferedBytes > this.outboundLimit) {
        session.overLimitSince ||= now;
        if (now - session.overLimitSince >= slowFor) {
          this.limitHit('SLOW_CONSUMER_SECONDS', `${session.describe()} over OUTBOUND_BUFFER_BYTES for ${this.config.SLOW_CONSUMER_SECONDS} s`);
          session.close('slow consumer');
        }
      } else {
        session.overLimitSince = 0;
      }
    }
    this.publisher.expireDedupe();
  }

  /**
   * Protocol 11.7: runs every half SESSION_EXPIRY_SECONDS (at most every 10
   * minutes). Live sessions are marked seen first, so a session that lasts
   * longer than the expiry keeps its state.
   */
  private scheduleExpiry(): void {
    const expiry = this.config.SESSION_EXPIRY_SECONDS;
    if (expiry === 0 || this.stopped) return;
    const every = Math.min(EXPIRY_SWEEP_MAX_MS, Math.max(1000, (expiry * 1000) / 2));
    this.expiryTimer = setTimeout(() => {
      this.expireClients()
        .catch((error: Error) => this.log.error(`expiring unseen client ids: ${error.message}`))
        .finally(() => this.scheduleExpiry());
    }, every);
    this.expiryTimer.unref();
  }

  /** Removes the persistent state of client ids unseen for SESSION_EXPIRY_SECONDS; answers how many ids went. */
  async expireClients(now = Date.now()): Promise<number> {
    const expiry = this.config.SESSION_EXPIRY_SECONDS;
    if (expiry === 0) return 0;
    if (this.sessions.size > 0) await this.storage.touchClients([...this.sessions.keys()], now);
    let ids = 0;
    let subscriptions = 0;
    let copies = 0;
    for (;;) {
      const expired = await this.storage.expireClients(now - expiry * 1000, EXPIRY_BATCH);
      for (const gone of expired) {
        if (this.sessions.has(gone.clientId)) {
          // It came back while its state went: storage is the truth for what it holds now.
          await this.reloadClient(gone.clientId);
        } else {
          const channels = [...(this.index.channelsOf(gone.clientId)?.keys() ?? [])];
          for (const channel of channels) this.index.remove(gone.clientId, channel);
          if (channels.length > 0) this.cluster.unsubscribed(gone.clientId, channels);
          this.queueDepths.forget(gone.clientId);
        }
        subscriptions += gone.subscriptions;
        copies += gone.queued;
      }
      ids += expired.length;
      if (expired.length < EXPIRY_BATCH) break;
    }
    if (ids > 0) {
      this.counters.expiredClients += ids;
      this.counters.expiredSubscriptions += subscriptions;
      this.counters.expiredCopies += copies;
      this.log.info(`expired ${ids} client id(s) unseen for SESSION_EXPIRY_SECONDS (${expiry} s): ${subscriptions} subscription(s) and ${copies} queued QoS 1 cop(ies) removed`);
    }
    return ids;
  }

  private async reloadClient(clientId: string): Promise<void> {
    const held = new Set((await this.storage.subscriptionsOf(clientId)).map((record) => record.channel));
    const gone = [...(this.index.channelsOf(clientId)?.keys() ?? [])].filter((channel) => !held.has(channel));
    for (const channel of gone) this.index.remove(clientId, channel);
    if (gone.length > 0) this.cluster.unsubscribed(clientId, gone);
    await this.queueDepths.reload(clientId);
  }

  /** Protocol 11.7: when a client id was last seen, kept in storage so that expiry counts across restarts. */
  private touch(clientId: string): void {
    this.storage.touchClients([clientId], Date.now()).catch((error: Error) => {
      this.log.error(`recording when ${quote(clientId)} was last seen: ${error.message}`);
    });
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
      previous.takenOver = true;
      previous.close('taken over by a new session');
    }
    const pending = this.ending.get(clientId);
    if (pending) await pending;
    this.touch(clientId);
    await this.cluster.claim(session);
    // Whatever temporary subscriptions this client id still has belong to an
    // ended session: taken over here, on another node, or on a node that died.
    if (this.hasTemporary(clientId)) await this.removeTemporary(clientId);
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
   * client waits for it before subscribing anything. A session that was taken
   * over leaves its temporary subscriptions to the new one, which removes them
   * before it starts, so they are never the new session's own.
   */
  private async endSession(session: Session): Promise<void> {
    const peer: Peer = { clientId: session.clientId, remoteHost: session.remoteHost, protocol: session.protocol };
    this.touch(session.clientId);
    if (!session.takenOver) {
      this.cluster.released(session);
      try {
        if (this.hasTemporary(session.clientId)) await this.removeTemporary(session.clientId);
      } catch (error) {
        this.log.error(`removing temporary subscriptions of ${session.describe()}: ${(error as Error).message}`);
      }
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

  /** The index mirrors storage, so a temporary subscription absent here is absent there. */
  private hasTemporary(clientId: string): boolean {
    for (const persistent of this.index.channelsOf(clientId)?.values() ?? []) if (!persistent) return true;
    return false;
  }

  async subscribe(clientId: string, channel: string, persistent: boolean): Promise<void> {
    // Renewing a subscription as it is (every session's `#clientId`) costs no write, no fsync.
    if (this.index.channelsOf(clientId)?.get(channel) === persistent) return;
    await this.storage.subscribe({ clientId, channel, persistent });
    this.index.add({ clientId, channel, persistent });
    this.cluster.subscribed(clientId, channel, persistent);
  }

  async unsubscribe(clientId: string, channel: string): Promise<boolean> {
    const existed = await this.storage.unsubscribe(clientId, channel);
    const removed = this.index.remove(clientId, channel) || existed;
    this.cluster.unsubscribed(clientId, [channel]);
    await this.queueDepths.reload(clientId);
    return removed;
  }

  /** JMQT 5: a session's end takes its temporary subscriptions and their queued copies. */
  private async removeTemporary(clientId: string): Promise<void> {
    const channels = await this.storage.removeTemporary(clientId);
    if (channels.length === 0) return;
    for (const channel of channels) this.index.remove(clientId, channel);
    this.cluster.unsubscribed(clientId, channels);
    await this.queueDepths.reload(clientId);
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

  /** On this node or, in a cluster, on any node. */
  isConnected(clientId: string): boolean {
    return this.cluster.isOnline(clientId);
  }
}

function checkServerChannel(channel: string): string {
  const name = normaliseChannel(channel);
  if (name === null) throw new Error(`'${channel}' is not a channel name`);
  return name;
}
