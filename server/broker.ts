/**
 * The broker: the registry of connections and sessions, the session
 * lifecycle (protocol 5), subscriptions, and the server-side API (8.4). It
 * builds the parts (router, publish pipeline, replay, expiry, metrics) and
 * implements the narrow interface each of them owns; nothing below it
 * imports this file.
 */
import { p2pChannel, channelKind, normaliseChannel } from '../shared/channel';
import { KICKED_REASON, type TransportName } from '../shared/keys';
import type { Json } from '../shared/packets';
import { AdminService } from './admin/admin-service';
import { Monitor } from './admin/monitor';
import type { AdminParts } from './admin/parts';
import { AttributedDispatcher } from './attributed-dispatcher';
import type { ClusterHost } from './cluster/host';
import { SINGLE_NODE, type PeerQuery, type Peers } from './cluster/peers';
import type { Config } from './config';
import { Connection, type ConnectionHost } from './connection';
import { ClientExpiry } from './expiry';
import type { HandlerContext } from './handlers/context';
import { Dispatcher } from './handlers';
import type { Application, Peer } from './hooks';
import type { BrokerEvent } from './events/event-log';
import { ConnectionGuard, connectionCap } from './limits/connection-guard';
import { LimitLog } from './limits/limit-log';
import { PublishRate } from './limits/publish-rate';
import type { Logger } from './log';
import { BrokerMetrics, type MetricsSource } from './metrics';
import type { Wire } from './outbound';
import { Publisher } from './publish/publisher';
import type { QueueDepths } from './queue-depths';
import { Replayer } from './replay';
import type { Router } from './routing/router';
import type { ServerApi, ServerPublishOptions } from './server-api';
import { newCounters } from './stats';
import type { Storage } from './storage/storage';
import { SubscriptionIndex } from './subscription-index';
import { sweepConnections } from './sweep';
import type { TransportHost } from './transports/host';

/** How the broker is deployed: one node, or a node of a cluster (server.ts chooses). */
export interface Deployment {
  router(host: ClusterHost): Router;
  queueDepths(storage: Storage): QueueDepths;
}

export class Broker implements ConnectionHost, HandlerContext, ClusterHost, TransportHost, MetricsSource, ServerApi, AdminParts {
  readonly counters = newCounters();
  readonly index = new SubscriptionIndex();
  /** Every open connection, with or without a session: the idle sweep walks these. */
  readonly connections = new Set<Connection>();
  /** client id → its one live session (protocol 5.3: a new session takes over). */
  readonly sessions = new Map<string, Connection>();
  readonly router: Router;
  readonly publisher: Publisher;
  readonly replayer: Replayer;
  /** Trace, events and per-client counters for the admin API. */
  readonly monitor: Monitor;
  readonly admin: AdminService;
  /** The other nodes, once a cluster router offers them (usePeers). */
  peers: Peers = SINGLE_NODE;
  readonly dispatcher: AttributedDispatcher = new AttributedDispatcher(new Dispatcher(this));
  readonly queueDepths: QueueDepths;
  readonly metrics: BrokerMetrics;
  readonly outboundLimit: number;
  readonly startedAt = Date.now();
  private readonly expiry: ClientExpiry;
  private readonly guard: ConnectionGuard;
  private readonly limitLog: LimitLog;
  /** Session ends in progress, awaited by a new session of the same client id. */
  private readonly ending = new Map<string, Promise<void>>();
  private sweepTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly config: Config,
    readonly storage: Storage,
    readonly app: Application,
    readonly log: Logger,
    deployment: Deployment,
  ) {
    this.outboundLimit = config.OUTBOUND_BUFFER_BYTES;
    this.limitLog = new LimitLog(log);
    this.router = deployment.router(this);
    this.monitor = new Monitor(config, this.router.nodeId);
    this.queueDepths = deployment.queueDepths(storage);
    this.metrics = new BrokerMetrics(this);
    this.replayer = new Replayer(storage, this.index);
    this.publisher = new Publisher({
      config, counters: this.counters, log, storage, index: this.index, queues: this.queueDepths, router: this.router,
      limitHit: (key, detail) => this.limitHit(key, detail), storageLatency: this.metrics.storageLatency, observer: this.monitor,
    });
    this.expiry = new ClientExpiry({
      config, storage, sessions: this.sessions, index: this.index, router: this.router, queues: this.queueDepths, counters: this.counters, log,
      lost: (clientId, copies) => this.monitor.lostCopies(clientId, 'expired', undefined, copies),
    });
    this.admin = new AdminService(this);
    // This node's events, for the live dashboards of the other nodes that watch (relayed ones are not passed on).
    this.monitor.events.listen((event) => event.node === this.router.nodeId && this.peers.shareEvent(event));
    this.guard = new ConnectionGuard(connectionCap(config.MAX_CONNECTIONS), config.MAX_CONNECTIONS_PER_ADDRESS, config.CONNECTION_RATE_PER_ADDRESS);
  }

  async start(): Promise<void> {
    const removed = await this.router.removeOrphanedTemporary(this.storage);
    if (removed > 0) this.log.info(`removed ${removed} temporary subscriptions left by the previous run`);
    await this.reloadSubscriptions();
    await this.queueDepths.load();
    await this.router.start();
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    this.expiry.start();
    this.app.attach?.(this);
  }

  /** Closes every connection and waits for their session ends. */
  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.expiry.stop();
    for (const connection of this.connections) connection.close('server shutting down');
    await Promise.all([...this.ending.values()]);
    await this.router.stop();
    this.publisher.stop();
  }

  private async reloadSubscriptions(): Promise<void> {
    const records = await this.storage.allSubscriptions();
    this.index.clear();
    for (const record of records) this.index.add(record);
  }

  // Limits (protocol 11)

  /** Counts and logs a limit being hit; `key` is the configuration key that set it, `clientId` the client that hit it. */
  limitHit(key: string, detail: string, clientId: string | undefined = this.dispatcher.current?.clientId): void {
    this.counters.limitHits[key] = (this.counters.limitHits[key] ?? 0) + 1;
    this.monitor.limitHit(key, clientId || undefined, detail);
    this.limitLog.write(key, detail);
  }

  /** Whether a new connection from `remoteHost` may open (protocol 11.8); if so, release() is owed when it closes. */
  admit(remoteHost: string): boolean {
    const refusal = this.guard.admit(remoteHost);
    if (refusal === null) return true;
    const key = { connections: 'MAX_CONNECTIONS', 'connections per address': 'MAX_CONNECTIONS_PER_ADDRESS', 'connection rate per address': 'CONNECTION_RATE_PER_ADDRESS' }[refusal];
    this.limitHit(key, `connection from ${remoteHost} refused`);
    return false;
  }

  release(remoteHost: string): void {
    this.guard.release(remoteHost);
  }

  newPublishRate(): PublishRate | null {
    const { PUBLISH_RATE_MESSAGES: messages, PUBLISH_RATE_BYTES: bytes } = this.config;
    return PublishRate.enabled(messages, bytes) ? new PublishRate(messages, bytes) : null;
  }

  // ConnectionHost

  /** A transport admitted a socket: a connection with no session yet. */
  accept(wire: Wire, protocol: TransportName, remoteHost: string): Connection {
    const connection = new Connection(this, wire, protocol, remoteHost);
    this.connections.add(connection);
    this.log.debug(`connection opened from ${remoteHost} over ${protocol}`);
    return connection;
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

  countThrottled(connection: Connection): void {
    this.counters.throttledClients++;
    this.limitHit('PUBLISH_RATE_MESSAGES', `${connection.describe()} is over its publish budget (PUBLISH_RATE_MESSAGES or PUBLISH_RATE_BYTES): reading paused`, connection.clientId);
  }

  /** Open connections per transport, every transport named. */
  connectionsByTransport(): Record<TransportName, number> {
    const counts: Record<TransportName, number> = { SOCKET: 0, SSL_SOCKET: 0, WEB_SOCKET: 0, SSL_WEB_SOCKET: 0 };
    for (const connection of this.connections) counts[connection.protocol]++;
    return counts;
  }

  /** Once a second: idle sessions, connect deadlines, slow consumers (sweep.ts); resend keys and traces past their time. */
  private sweep(): void {
    sweepConnections(this);
    this.publisher.expireDedupe();
    this.monitor.trace.expire();
  }

  // Session lifecycle (protocol 5)

  /**
   * Starts the session of `clientId` on this connection, after the connection
   * validator said OK: takeover, ownership, `#clientId`; then the caller sends
   * connAck and replays.
   */
  async openSession(connection: Connection, clientId: string): Promise<void> {
    const previous = this.sessions.get(clientId);
    connection.stats = this.monitor.clients.touch(clientId);
    // Claimed before any await, so two racing conns cannot both win.
    this.sessions.set(clientId, connection);
    connection.clientId = clientId;
    connection.state = 'session';
    if (previous && previous !== connection) {
      this.log.info(`${previous.describe()} taken over by a new session from ${connection.remoteHost} over ${connection.protocol}`);
      previous.takenOver = true;
      previous.close('taken over by a new session');
    }
    const pending = this.ending.get(clientId);
    if (pending) await pending;
    this.expiry.touch(clientId);
    await this.router.claim(connection);
    // Whatever temporary subscriptions this client id still has belong to an
    // ended session: taken over here, on another node, or on a node that died.
    if (this.hasTemporary(clientId)) await this.removeTemporary(clientId);
    // Protocol 5.4: the server, not the client, subscribes every session to its P2P channel.
    await this.subscribe(clientId, p2pChannel(clientId), true);
    this.log.info(`session started: ${connection.describe()}`);
    this.monitor.sessionStarted(connection);
  }

  sessionClosed(connection: Connection, reason: string): void {
    this.connections.delete(connection);
    if (connection.state !== 'session') {
      this.log.debug(`connection from ${connection.remoteHost} over ${connection.protocol} closed: ${reason}`);
      return;
    }
    const clientId = connection.clientId;
    this.log.info(`session ended (${reason}): ${connection.describe()}`);
    connection.stats.delivered += connection.pushes;
    connection.pushes = 0;
    this.monitor.sessionEnded(connection, reason, connection.kicked ? 'kick' : connection.takenOver ? 'takeover' : 'end');
    if (this.sessions.get(clientId) === connection) this.sessions.delete(clientId);
    const previous = this.ending.get(clientId) ?? Promise.resolve();
    const end = previous.then(() => this.endSession(connection));
    this.ending.set(clientId, end);
    end.finally(() => {
      if (this.ending.get(clientId) === end) this.ending.delete(clientId);
    });
  }

  /**
   * Runs after the previous end of the same client id; a new session of that
   * client waits for it before subscribing anything. A session that was taken
   * over leaves its temporary subscriptions to the new one, which removes them
   * before it starts, so they are never the new session's own (protocol 5.9).
   */
  private async endSession(connection: Connection): Promise<void> {
    const peer: Peer = { clientId: connection.clientId, remoteHost: connection.remoteHost, protocol: connection.protocol };
    this.expiry.touch(connection.clientId);
    if (!connection.takenOver) {
      this.router.released(connection);
      try {
        if (this.hasTemporary(connection.clientId)) await this.removeTemporary(connection.clientId);
      } catch (error) {
        this.log.error(`removing temporary subscriptions of ${connection.describe()}: ${(error as Error).message}`);
      }
    }
    this.notify(() => connection.disconnected && this.app.onDisconnect(peer), 'disconnection notifier');
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

  /** Admin API: ends the session of `clientId` here, WebSocket close code 4001; answers whether there was one. */
  kickLocal(clientId: string, by: string): boolean {
    const connection = this.sessions.get(clientId);
    if (!connection) return false;
    this.log.info(`${connection.describe()} kicked by operator at ${by}`);
    connection.kicked = true;
    connection.close(KICKED_REASON);
    return true;
  }

  usePeers(peers: Peers): void {
    this.peers = peers;
  }

  answerPeer(query: PeerQuery): Promise<unknown> {
    return this.admin.views.answerPeer(query);
  }

  relayEvent(event: BrokerEvent): void {
    this.monitor.events.relay(event);
  }

  /** ClusterHost: after a bus outage, subscriptions from storage and stored copies pushed again. */
  async resynchronise(): Promise<void> {
    await this.reloadSubscriptions();
    const pushed = await this.replayer.redeliver(this.sessions.values());
    if (pushed > 0) this.log.info(`cluster bus recovered: pushed ${pushed} stored QoS 1 message(s) again to this node's sessions`);
  }

  // Subscriptions

  channelsOf(clientId: string): ReadonlyMap<string, boolean> | undefined {
    return this.index.channelsOf(clientId);
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
    this.router.subscribed(clientId, channel, persistent);
  }

  async unsubscribe(clientId: string, channel: string): Promise<boolean> {
    const existed = await this.storage.unsubscribe(clientId, channel);
    if (existed) this.monitor.lostCopies(clientId, 'unsubscribed', [channel]);
    const removed = this.index.remove(clientId, channel) || existed;
    this.router.unsubscribed(clientId, [channel]);
    await this.queueDepths.reload(clientId);
    return removed;
  }

  /** Protocol 5.9: a session's end takes its temporary subscriptions and their queued copies. */
  private async removeTemporary(clientId: string): Promise<void> {
    const channels = await this.storage.removeTemporary(clientId);
    if (channels.length === 0) return;
    this.monitor.lostCopies(clientId, 'temporary subscription ended', channels);
    for (const channel of channels) this.index.remove(clientId, channel);
    this.router.unsubscribed(clientId, channels);
    await this.queueDepths.reload(clientId);
  }

  async acknowledge(clientId: string, id: string): Promise<boolean> {
    const found = await this.storage.acknowledge(clientId, id);
    if (found) {
      this.queueDepths.add(clientId, -1);
      this.monitor.acked(clientId, id);
    }
    return found;
  }

  /** Protocol 11.7: removes what client ids unseen for SESSION_EXPIRY_SECONDS hold; answers how many went. */
  expireClients(now?: number): Promise<number> {
    return this.expiry.run(now);
  }

  // ServerApi (protocol 8.4)

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
    await this.publisher.publish({ channel: name, data, qos: options.qos ?? 0, retain: options.retain ?? false, sender: '' });
  }

  /** On this node or, in a cluster, on any node. */
  isConnected(clientId: string): boolean {
    return this.router.isOnline(clientId);
  }
}

function checkServerChannel(channel: string): string {
  const name = normaliseChannel(channel);
  if (name === null) throw new Error(`'${channel}' is not a channel name`);
  return name;
}
