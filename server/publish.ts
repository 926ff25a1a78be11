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
import { quote } from './log-text';
import type { QueuedMessage } from './storage/storage';
import type { BusMessage } from './cluster/bus';

type PubMessage = Extract<BusMessage, { t: 'pub' }>;

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
      if (publication.retain) {
        const data = JSON.stringify(publication.data);
        // Written with the tick's batch and not awaited: QoS 0 promises no storage, and a
        // flood of retained pubs then costs one transaction per tick (protocol 11.2).
        this.retain(publication, data).catch((error: Error) => {
          broker.log.error(`storing the retained message of ${quote(publication.channel)}: ${error.message}`);
        });
        return this.routeQos0(publication, data);
      }
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

  /** `json` is the data as JSON text, serialised once for storage and pushes alike. */
  private async retain({ channel, data, sender }: Publication, json: string): Promise<void> {
    // JMQT 5 decision: a retained pub with `dt: null` clears the channel's retained message.
    if (data === null) await this.broker.storage.clearRetained(channel);
    else await this.broker.storage.retain({ channel, data: json, sender });
  }

  private routeQos0(publication: Publication, json?: string): number {
    const { channel, sender } = publication;
    const subscribers = this.broker.index.subscribers(channel);
    if (!subscribers) return this.p2pStatus(channel, 0);
    const data = json ?? JSON.stringify(publication.data);
    const frame = new OutFrame(encodePush(channel, data, sender, ''));
    const forward = this.broker.cluster.enabled ? { t: 'pub' as const, cn: channel, dt: data, cl: sender } : null;
    const reached = this.deliver(subscribers.keys(), frame, sender, undefined, forward);
    return this.p2pStatus(channel, reached);
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
      broker.limitHit('MAX_QUEUED_PER_CLIENT', `publish to ${quote(channel)} refused: queue of ${full.slice(0, 3).map(quote).join(', ')}${full.length > 3 ? ` and ${full.length - 3} more` : ''} is full`);
      return Status.FAILED;
    }
    // JMQT 5: stored for every subscriber, online or not, before the pubAck.
    const stored = copies.length > 0 ? broker.storage.enqueue(copies) : undefined;
    const retained = publication.retain ? this.retain(publication, data) : undefined;
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
    const frame = new OutFrame(encodePush(channel, data, sender, { id }));
    const reached = this.deliver(copies.map((copy) => copy.clientId), frame, sender, id, { t: 'pub', cn: channel, dt: data, cl: sender, id });
    return this.p2pStatus(channel, reached);
  }

  /**
   * Pushes `frame` to the recipients with a session on this node (never the
   * sender: JMQT 5 decision, as the original), QoS 1 when `id` is given, and
   * hands `forward` once to each other node that holds some of the rest.
   * Answers how many sessions and nodes it reached.
   */
  private deliver(recipients: Iterable<string>, frame: OutFrame, sender: string, id: string | undefined, forward: PubMessage | null): number {
    const { broker } = this;
    let reached = 0;
    let nodes: Set<string> | null = null;
    for (const clientId of recipients) {
      if (clientId === sender) continue;
      const session = broker.sessions.get(clientId);
      if (session) {
        if (id === undefined) session.pushQos0(frame);
        else session.pushQos1(frame);
        reached++;
      } else if (forward && broker.cluster.enabled) {
        const node = broker.cluster.nodeOf(clientId);
        if (node) (nodes ??= new Set()).add(node);
      }
    }
    if (nodes && forward) {
      broker.cluster.forward(nodes, forward);
      reached += nodes.size;
    }
    return reached;
  }

  /**
   * A publish routed here by another node: push to this node's subscribers of
   * the channel. QoS 1 copies are already in shared storage, under `id`.
   */
  deliverLocal(channel: string, data: string, sender: string, id?: string): void {
    const subscribers = this.broker.index.subscribers(channel);
    if (!subscribers) return;
    this.deliver(subscribers.keys(), new OutFrame(encodePush(channel, data, sender, id === undefined ? '' : { id })), sender, id, null);
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
      broker.queueDepths.evicted(clientId, dropped);
      broker.counters.evictedCopies += dropped;
      broker.limitHit('MAX_QUEUED_PER_CLIENT', `dropped the ${dropped} oldest queued message(s) of ${quote(clientId)} for one on ${quote(channel)}`);
    }
  }

  /** JMQT 5: a P2P pub whose target is not connected is answered 8 (stored anyway with QoS 1). */
  private p2pStatus(channel: string, online: number): number {
    if (online > 0 || channelKind(channel) !== 'p2p') return Status.OK;
    return this.broker.isConnected(channel.slice(1)) ? Status.OK : Status.CLIENT_OFFLINE;
  }
}
