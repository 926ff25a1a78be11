/**
 * The publish pipeline (protocol 7.1) as named steps that read like the
 * protocol: plan the copies → admit them to the queues → store and retain →
 * route → answer. Data is serialised once and the push encoded once per
 * shape. QoS 0 stays synchronous: no Promise on its path.
 */
import { channelKind } from '../../shared/channel';
import { encodePush } from '../../shared/codec';
import { Status } from '../../shared/status';
import type { Config } from '../config';
import type { Logger } from '../log';
import { quote } from '../log-text';
import { OutFrame } from '../outbound';
import type { QueueDepths } from '../queue-depths';
import type { Router } from '../routing/router';
import type { BrokerCounters } from '../stats';
import type { QueuedMessage, Storage } from '../storage/storage';
import type { SubscriptionIndex } from '../subscription-index';
import type { PublishedInfo } from '../trace/trace-store';
import { MessageFrame, MessageIds } from './message-id';
import type { Publication } from './publication';
import { ResendDedupe } from './resend-dedupe';

/** Where the pipeline reports what became of each message and each client (trace, per-client counters, events). */
export interface PublishObserver {
  readonly tracing: boolean;
  /** The message entered the pipeline; answers its trace record to complete with the status, null when not traced. */
  published(id: string, info: PublishedInfo, pubKey?: string): PublishedInfo | null;
  /** Its copies are durable, one per client named. */
  stored(id: string, clientIds: string[]): void;
  /** reject-publisher: the publish was refused for these clients' full queues. */
  queueFull(id: string, clientIds: string[]): void;
  /** drop-oldest: `count` copies of `clientId` made room; `ids` those known (read only while tracing). */
  evicted(clientId: string, count: number, ids: string[]): void;
}

/** What the pipeline needs, and nothing of the broker beyond it (ARCHITECTURE rule 13). */
export interface PublisherParts {
  config: Pick<Config, 'QOS1_DEDUPE_SECONDS' | 'MAX_QUEUED_PER_CLIENT' | 'QUEUE_POLICY'>;
  counters: BrokerCounters;
  log: Logger;
  limitHit(key: string, detail: string): void;
  storage: Pick<Storage, 'enqueue' | 'retain' | 'clearRetained' | 'dropOldest' | 'queuedPage'>;
  index: Pick<SubscriptionIndex, 'subscribers'>;
  queues: QueueDepths;
  router: Pick<Router, 'route' | 'isOnline'>;
  /** Seconds from handing QoS 1 copies to storage to their being durable. */
  storageLatency: { observe(seconds: number): void };
  observer: PublishObserver;
}

/** One QoS 1 publish once planned: its server id, the data as JSON text, a copy per recipient. */
interface Plan {
  id: string;
  data: string;
  copies: QueuedMessage[];
  /** Recipients whose queue is at MAX_QUEUED_PER_CLIENT. */
  full: string[];
}

export class Publisher {
  /** Server ids, unique across restarts and nodes (protocol 7.5). */
  private readonly ids = new MessageIds();
  private readonly dedupe: ResendDedupe;

  constructor(private readonly parts: PublisherParts) {
    this.dedupe = new ResendDedupe(parts.config.QOS1_DEDUPE_SECONDS * 1000);
  }

  stop(): void {
    this.dedupe.clear();
  }

  /** A fresh server id, for a publish that wants to know its id before it is made (the admin API). */
  newMessageId(): string {
    return this.ids.next();
  }

  /** Called once a second: forgets resend keys past QOS1_DEDUPE_SECONDS. */
  expireDedupe(): void {
    this.dedupe.expire();
  }

  /** Answers the pubAck status: 1, 8 for a P2P target that is offline, 0 when a full queue refuses it. */
  publish(publication: Publication): number | Promise<number> {
    this.parts.counters.messagesIn++;
    if (publication.qos === 0) return this.publishQos0(publication);
    if (publication.pubId === undefined || !this.dedupe.enabled) return this.publishQos1(publication);
    const key = publication.sender + '\0' + publication.pubId;
    const earlier = this.dedupe.seen(key);
    if (earlier) {
      this.parts.counters.duplicatePublishes++;
      this.parts.counters.messagesIn--;
      return earlier;
    }
    const status = this.publishQos1(publication);
    this.dedupe.remember(key, status);
    return status;
  }

  /** Protocol 7.3: pushed to the subscribers online now, then forgotten; a retained one is also kept (7.9). */
  private publishQos0(publication: Publication): number {
    const { channel, sender } = publication;
    const retained = publication.retain ? this.retainLater(publication) : undefined;
    const subscribers = this.parts.index.subscribers(channel);
    if (!subscribers) return this.traceQos0(publication, retained, 0, this.answer(channel, 0));
    const data = retained ?? JSON.stringify(publication.data);
    const frame = new OutFrame(encodePush(channel, data, sender, ''));
    const reached = this.parts.router.route(subscribers.keys(), frame, { channel, data, sender });
    return this.traceQos0(publication, data, reached, this.answer(channel, reached));
  }

  /** QoS 0 is traced only with an id to find it by: one record per publish, nothing per push. Answers `status`. */
  private traceQos0(publication: Publication, data: string | undefined, reached: number, status: number): number {
    if ((publication.pubId === undefined && publication.messageId === undefined) || !this.parts.observer.tracing) return status;
    const info = this.describe(publication, data ?? JSON.stringify(publication.data), Date.now());
    Object.assign(info, { reached, status });
    this.parts.observer.published(publication.messageId ?? this.ids.next(), info, this.pubKey(publication));
    return status;
  }

  private describe({ channel, sender, qos, retain, pubId }: Publication, data: string, at: number): PublishedInfo {
    const info: PublishedInfo = { channel, publisher: sender, qos, retained: retain, bytes: Buffer.byteLength(data), at };
    if (pubId !== undefined) info.pubId = String(pubId);
    return info;
  }

  private pubKey({ sender, pubId }: Publication): string | undefined {
    return pubId === undefined ? undefined : `${sender}:${pubId}`;
  }

  /** Protocol 7.4: stored for every subscriber, online or not, before the pubAck. */
  private async publishQos1(publication: Publication): Promise<number> {
    const plan = this.planCopies(publication);
    const { observer } = this.parts;
    const traced = observer.tracing ? observer.published(plan.id, this.describe(publication, plan.data, Date.now()), this.pubKey(publication)) : null;
    if (!(await this.admitToQueues(plan, publication.channel))) {
      observer.queueFull(plan.id, plan.full);
      if (traced) traced.status = Status.FAILED;
      return Status.FAILED;
    }
    try {
      await this.storeAndRetain(plan, publication);
    } catch (error) {
      if (traced) traced.status = Status.SERVER_ERROR;
      throw error;
    }
    if (plan.copies.length > 0) observer.stored(plan.id, plan.copies.map((copy) => copy.clientId));
    const { channel, sender } = publication;
    const frame = new MessageFrame(encodePush(channel, plan.data, sender, { id: plan.id }), plan.id);
    const reached = this.parts.router.route(plan.copies.map((copy) => copy.clientId), frame, { channel, data: plan.data, sender, id: plan.id });
    const status = this.answer(channel, reached);
    if (traced) traced.status = status;
    return status;
  }

  /** One copy per subscriber but the publisher (protocol 7.10), under one server id; a channel without subscribers stores nothing. */
  private planCopies({ channel, sender, data, messageId }: Publication): Plan {
    const json = JSON.stringify(data);
    const id = messageId ?? this.ids.next();
    const copies: QueuedMessage[] = [];
    const max = this.parts.config.MAX_QUEUED_PER_CLIENT;
    const full: string[] = [];
    for (const clientId of this.parts.index.subscribers(channel)?.keys() ?? []) {
      if (clientId === sender) continue;
      copies.push({ id, clientId, channel, data: json, sender });
      if (this.parts.queues.of(clientId) >= max) full.push(clientId);
    }
    return { id, data: json, copies, full };
  }

  /**
   * Protocol 11.4: a full queue refuses the publish (reject-publisher, the
   * default: nothing acknowledged is ever dropped) or makes room after the
   * store (drop-oldest). Answers whether the publish may go on.
   */
  private async admitToQueues(plan: Plan, channel: string): Promise<boolean> {
    if (plan.full.length === 0) return true;
    const { config, queues } = this.parts;
    plan.full = await queues.confirmFull(plan.full, config.MAX_QUEUED_PER_CLIENT);
    if (plan.full.length === 0 || config.QUEUE_POLICY === 'drop-oldest') return true;
    const named = plan.full.slice(0, 3).map(quote).join(', ') + (plan.full.length > 3 ? ` and ${plan.full.length - 3} more` : '');
    this.parts.limitHit('MAX_QUEUED_PER_CLIENT', `publish to ${quote(channel)} refused: queue of ${named} is full`);
    return false;
  }

  /** Durable before the pubAck; only then does drop-oldest evict, so a failed store evicts nothing. */
  private async storeAndRetain(plan: Plan, publication: Publication): Promise<void> {
    const { storage, queues, storageLatency } = this.parts;
    const stored = plan.copies.length > 0 ? storage.enqueue(plan.copies) : undefined;
    const retained = publication.retain ? this.retain(publication, plan.data) : undefined;
    for (const copy of plan.copies) queues.add(copy.clientId, 1);
    const started = performance.now();
    try {
      await stored;
      if (stored) storageLatency.observe((performance.now() - started) / 1000);
    } catch (error) {
      for (const copy of plan.copies) queues.add(copy.clientId, -1);
      throw error;
    }
    await retained;
    if (plan.full.length > 0) await this.makeRoom(plan.full, publication.channel);
  }

  /** QUEUE_POLICY drop-oldest: the oldest copies make room for the new one, each eviction counted per client. */
  private async makeRoom(clientIds: string[], channel: string): Promise<void> {
    const { storage, queues, config, counters } = this.parts;
    for (const clientId of clientIds) {
      const excess = queues.of(clientId) - config.MAX_QUEUED_PER_CLIENT;
      if (excess <= 0) continue;
      // Which copies go, for their traces: read (only while tracing) just before they are deleted.
      const going = this.parts.observer.tracing ? await storage.queuedPage(clientId, 0, excess) : [];
      const dropped = await storage.dropOldest(clientId, excess);
      queues.evicted(clientId, dropped);
      counters.evictedCopies += dropped;
      this.parts.observer.evicted(clientId, dropped, going.slice(0, dropped).map((copy) => copy.id));
      this.parts.limitHit('MAX_QUEUED_PER_CLIENT', `dropped the ${dropped} oldest queued message(s) of ${quote(clientId)} for one on ${quote(channel)}`);
    }
  }

  /** `json` is the data as JSON text, serialised once for storage and pushes alike. */
  private async retain({ channel, data, sender }: Publication, json: string): Promise<void> {
    // Protocol 7.9 decision: a retained pub with `dt: null` clears the channel's retained message.
    if (data === null) await this.parts.storage.clearRetained(channel);
    else await this.parts.storage.retain({ channel, data: json, sender });
  }

  /**
   * QoS 0 promises no storage, so its retained message is written with the
   * tick's batch and not awaited: a flood of them costs one transaction per
   * tick (protocol 11.2). Answers the data as JSON text, for the pushes.
   */
  private retainLater(publication: Publication): string {
    const json = JSON.stringify(publication.data);
    this.retain(publication, json).catch((error: Error) => {
      this.parts.log.error(`storing the retained message of ${quote(publication.channel)}: ${error.message}`);
    });
    return json;
  }

  /** Protocol 7.8: a P2P pub whose target is not connected is answered 8 (stored anyway with QoS 1). */
  private answer(channel: string, reached: number): number {
    if (reached > 0 || channelKind(channel) !== 'p2p') return Status.OK;
    return this.parts.router.isOnline(channel.slice(1)) ? Status.OK : Status.CLIENT_OFFLINE;
  }
}
