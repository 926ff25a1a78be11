/**
 * The publish pipeline (JMQT 5 "Publish and push"), as named steps:
 * retain → store (QoS 1) → route. Authorisation happens in the pub handler,
 * before this. Data is serialised once and the push encoded once per shape.
 */
import { randomBytes } from 'node:crypto';
import type { Json } from '../shared/packets';
import { channelKind } from '../shared/channel';
import { encodePush } from '../shared/codec';
import { Status } from '../shared/status';
import type { Broker } from './broker';
import { OutFrame } from './outbound';
import type { QueuedMessage } from './storage/storage';

export interface Publication {
  /** Normalised channel name; never a control channel. */
  channel: string;
  data: Json;
  qos: 0 | 1;
  retain: boolean;
  /** Publisher's client id; `''` for the server. */
  sender: string;
  /** The pub's id, for QoS 1 resend dedupe. */
  pubId?: string | number;
}

/** Most (client, pub id) pairs remembered for dedupe, whatever their age. */
const DEDUPE_CAPACITY = 100_000;

export class Publisher {
  /** Boot-unique prefix: server ids stay unique across restarts and nodes. */
  private readonly idPrefix = randomBytes(6).toString('base64url');
  private idCounter = 0;
  /** `${client}\0${pubId}` → result of the first publish and when to forget it. */
  private readonly recent = new Map<string, { status: Promise<number>; expires: number }>();

  constructor(private readonly broker: Broker) {}

  stop(): void {
    this.recent.clear();
  }

  nextId(): string {
    return this.idPrefix + (++this.idCounter).toString(36);
  }

  /** Answers the pubAck status: 1, 8 for a P2P target that is offline, 0 when a full queue refuses it. */
  publish(publication: Publication): number | Promise<number> {
    const { broker } = this;
    broker.counters.messagesIn++;
    if (publication.qos === 0) {
      if (publication.retain) return this.retain(publication).then(() => this.routeQos0(publication));
      return this.routeQos0(publication);
    }
    if (publication.pubId === undefined || broker.config.QOS1_DEDUPE_SECONDS === 0) return this.publishQos1(publication);
    const key = publication.sender + '\0' + publication.pubId;
    const seen = this.recent.get(key);
    if (seen) {
      broker.counters.duplicatePublishes++;
      broker.counters.messagesIn--;
      return seen.status;
    }
    const status = this.publishQos1(publication);
    this.recent.set(key, { status, expires: Date.now() + broker.config.QOS1_DEDUPE_SECONDS * 1000 });
    // A failed store is no message: the client's resend must be tried again.
    status.catch(() => this.recent.delete(key));
    if (this.recent.size > DEDUPE_CAPACITY) this.recent.delete(this.recent.keys().next().value!);
    return status;
  }

  expireDedupe(): void {
    const now = Date.now();
    for (const [key, entry] of this.recent) {
      if (entry.expires > now) break;
      this.recent.delete(key);
    }
  }

  private async retain({ channel, data, sender }: Publication): Promise<void> {
    // JMQT 5 decision: a retained pub with `dt: null` clears the channel's retained message.
    if (data === null) await this.broker.storage.clearRetained(channel);
    else await this.broker.storage.retain({ channel, data: JSON.stringify(data), sender });
  }

  private routeQos0(publication: Publication): number {
    const { broker } = this;
    const { channel, sender } = publication;
    const subscribers = broker.index.subscribers(channel);
    let online = 0;
    if (subscribers) {
      let frame: OutFrame | null = null;
      let data: string | null = null;
      let nodes: Set<string> | null = null;
      for (const clientId of subscribers.keys()) {
        // JMQT 5 decision: the publisher does not receive its own message.
        if (clientId === sender) continue;
        const session = broker.sessions.get(clientId);
        if (session) {
          data ??= JSON.stringify(publication.data);
          frame ??= new OutFrame(encodePush(channel, data, sender, ''));
          session.pushQos0(frame);
          online++;
        } else if (broker.cluster.enabled) {
          const node = broker.cluster.nodeOf(clientId);
          if (node) (nodes ??= new Set()).add(node);
        }
      }
      if (nodes) {
        broker.cluster.forward(nodes, { t: 'pub', cn: channel, dt: data ?? JSON.stringify(publication.data), cl: sender });
        online += nodes.size;
      }
    }
    return this.p2pStatus(channel, online);
  }

  private async publishQos1(publication: Publication): Promise<number> {
    const { broker } = this;
    const { channel, sender } = publication;
    const data = JSON.stringify(publication.data);
    const id = this.nextId();
    const copies: QueuedMessage[] = [];
    for (const clientId of broker.index.subscribers(channel)?.keys() ?? []) {
      if (clientId !== sender) copies.push({ id, clientId, channel, data, sender });
    }
    let full = this.fullQueues(copies);
    // Other nodes acknowledge copies too, so in a cluster a full count here is
    // only a hint: storage has the truth for those few.
    if (full.length > 0 && broker.cluster.enabled) full = await this.recount(full);
    if (full.length > 0 && broker.config.QUEUE_POLICY === 'reject-publisher') {
      broker.limitHit('MAX_QUEUED_PER_CLIENT', `publish to '${channel}' refused: queue of ${full.join(', ')} is full`);
      return Status.FAILED;
    }
    // JMQT 5: stored for every subscriber, online or not, before the pubAck.
    const stored = copies.length > 0 ? broker.storage.enqueue(copies) : undefined;
    const retained = publication.retain ? this.retain(publication) : undefined;
    for (const copy of copies) broker.queueDepths.add(copy.clientId, 1);
    const started = performance.now();
    try {
      await stored;
      if (stored) broker.metrics.storageLatency.observe((performance.now() - started) / 1000);
    } catch (error) {
      for (const copy of copies) broker.queueDepths.add(copy.clientId, -1);
      throw error;
    }
    await retained;
    if (full.length > 0) await this.dropOldest(full, channel);
    let online = 0;
    if (copies.length > 0) {
      const frame = new OutFrame(encodePush(channel, data, sender, { id }));
      let nodes: Set<string> | null = null;
      for (const copy of copies) {
        const session = broker.sessions.get(copy.clientId);
        if (session) {
          session.pushQos1(frame, id);
          online++;
        } else if (broker.cluster.enabled) {
          const node = broker.cluster.nodeOf(copy.clientId);
          if (node) (nodes ??= new Set()).add(node);
        }
      }
      if (nodes) {
        broker.cluster.forward(nodes, { t: 'pub', cn: channel, dt: data, cl: sender, id });
        online += nodes.size;
      }
    }
    return this.p2pStatus(channel, online);
  }

  /**
   * A publish routed here by another node: push to this node's subscribers of
   * the channel. QoS 1 copies are already in shared storage, under `id`.
   */
  deliverLocal(channel: string, data: string, sender: string, id?: string): void {
    const subscribers = this.broker.index.subscribers(channel);
    if (!subscribers) return;
    const frame = new OutFrame(encodePush(channel, data, sender, id === undefined ? '' : { id }));
    for (const clientId of subscribers.keys()) {
      if (clientId === sender) continue;
      const session = this.broker.sessions.get(clientId);
      if (!session) continue;
      if (id === undefined) session.pushQos0(frame);
      else session.pushQos1(frame, id);
    }
  }

  /** Recipients whose queue is at MAX_QUEUED_PER_CLIENT already. */
  private fullQueues(copies: QueuedMessage[]): string[] {
    const max = this.broker.config.MAX_QUEUED_PER_CLIENT;
    return copies.filter((copy) => this.broker.queueDepths.of(copy.clientId) >= max).map((copy) => copy.clientId);
  }

  private async recount(clientIds: string[]): Promise<string[]> {
    const { queueDepths, config } = this.broker;
    await Promise.all(clientIds.map((clientId) => queueDepths.reload(clientId)));
    return clientIds.filter((clientId) => queueDepths.of(clientId) >= config.MAX_QUEUED_PER_CLIENT);
  }

  /** Drop-oldest policy: the oldest copies make room for the new one. */
  private async dropOldest(clientIds: string[], channel: string): Promise<void> {
    const { broker } = this;
    for (const clientId of clientIds) {
      const excess = broker.queueDepths.of(clientId) - broker.config.MAX_QUEUED_PER_CLIENT;
      if (excess <= 0) continue;
      const dropped = await broker.storage.dropOldest(clientId, excess);
      broker.queueDepths.add(clientId, -dropped);
      broker.limitHit('MAX_QUEUED_PER_CLIENT', `dropped the ${dropped} oldest queued message(s) of ${clientId} for one on '${channel}'`);
    }
  }

  /** JMQT 5: a P2P pub whose target is not connected is answered 8 (stored anyway with QoS 1). */
  private p2pStatus(channel: string, online: number): number {
    if (online > 0 || channelKind(channel) !== 'p2p') return Status.OK;
    return this.broker.isConnected(channel.slice(1)) ? Status.OK : Status.CLIENT_OFFLINE;
  }
}
