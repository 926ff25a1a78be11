/**
 * The operator's actions behind the admin API: kick (on any node of a
 * cluster), force subscribe and unsubscribe, purge a queue, clear a retained
 * message, publish as the server. Each is written to the log as an audit
 * line (what, on whom, from which address, with what outcome), counted
 * (/metrics jmqt_admin_actions_total{action}) and recorded as an event. The
 * views are in admin-views.ts.
 */
import { channelKind } from '../../shared/channel';
import type { Json } from '../../shared/packets';
import { Status } from '../../shared/status';
import { quote } from '../log-text';
import { AdminViews } from './admin-views';
import type { AdminParts } from './parts';

export type AdminAction = 'kick' | 'subscribe' | 'unsubscribe' | 'purge' | 'clear-retained' | 'publish';

/** Whom an action is about; client text, quoted in the log. */
interface Subject {
  clientId?: string;
  channel?: string;
}

export interface AdminPublish {
  channel: string;
  data: Json;
  qos: 0 | 1;
  retain: boolean;
}

export class AdminService {
  readonly views: AdminViews;

  constructor(private readonly parts: AdminParts) {
    this.views = new AdminViews(parts);
  }

  /** Ends the session of `clientId` wherever it is (close code 4001); answers the node it was on, null when it had none. */
  async kick(clientId: string, by: string): Promise<string | null> {
    let node: string | null = this.parts.kickLocal(clientId, by) ? this.parts.router.nodeId : null;
    try {
      node ??= await this.parts.peers.kick(clientId, by);
    } catch (error) {
      this.audit('kick', by, { clientId }, `failed: ${(error as Error).message}`);
      throw error;
    }
    this.audit('kick', by, { clientId }, node === null ? 'no session on any node' : `session ended on node ${node}`);
    return node;
  }

  /** Answers whether the subscription is new (false: it existed, now with this `persistent`). */
  async subscribe(clientId: string, channel: string, persistent: boolean, by: string): Promise<boolean> {
    if (channelKind(channel) === 'control') throw new Error(`cannot subscribe to control channel '${channel}'`);
    const existed = this.parts.index.channelsOf(clientId)?.has(channel) ?? false;
    await this.parts.subscribe(clientId, channel, persistent);
    this.audit('subscribe', by, { clientId, channel }, `${existed ? 'updated' : 'subscribed'}, ${persistent ? 'persistent' : 'temporary'}`);
    return !existed;
  }

  async unsubscribe(clientId: string, channel: string, by: string): Promise<boolean> {
    const removed = await this.parts.unsubscribe(clientId, channel);
    this.audit('unsubscribe', by, { clientId, channel }, removed ? 'unsubscribed, its queued copies on it removed' : 'was not subscribed');
    return removed;
  }

  /** Removes every queued QoS 1 copy of `clientId`; answers how many went. */
  async purge(clientId: string, by: string): Promise<number> {
    const { storage, queueDepths, monitor } = this.parts;
    const removed = await storage.dropOldest(clientId, await storage.queuedCount(clientId));
    await queueDepths.reload(clientId);
    monitor.lostCopies(clientId, 'purged', undefined, removed);
    this.audit('purge', by, { clientId }, `${removed} queued cop(ies) removed`);
    return removed;
  }

  /** Answers whether the channel had a retained message. */
  async clearRetained(channel: string, by: string): Promise<boolean> {
    const { storage } = this.parts;
    const had = (await storage.retainedFor([channel])).length > 0;
    if (had) await storage.clearRetained(channel);
    this.audit('clear-retained', by, { channel }, had ? 'cleared' : 'had none');
    return had;
  }

  /** Protocol 7.11: published as the server (`cl: ""`); answers the pubAck status and the message's server id (its trace id; the push id with QoS 1). */
  async publish(message: AdminPublish, by: string): Promise<{ status: number; id: string }> {
    const { publisher, router } = this.parts;
    const id = publisher.newMessageId();
    let status: number;
    if (!router.ready) {
      // As for a client's pub (protocol 7.1 step 4): better to say so than to reach only this node.
      status = Status.SERVER_ERROR;
    } else {
      try {
        status = await publisher.publish({ ...message, sender: '', messageId: id });
      } catch (error) {
        this.parts.log.error(`admin publish to ${quote(message.channel)}: ${(error as Error).message}`);
        status = Status.SERVER_ERROR;
      }
    }
    this.audit('publish', by, { channel: message.channel }, `QoS ${message.qos}${message.retain ? ', retained' : ''}, id ${id}, status ${status}`);
    return { status, id };
  }

  private audit(action: AdminAction, by: string, subject: Subject, outcome: string): void {
    const { counters, log, monitor } = this.parts;
    counters.adminActions[action] = (counters.adminActions[action] ?? 0) + 1;
    const on = [subject.clientId === undefined ? '' : ` client ${quote(subject.clientId)}`, subject.channel === undefined ? '' : ` channel ${quote(subject.channel)}`].join('');
    log.info(`admin audit: ${action}${on} by ${by}: ${outcome}`);
    const target = [subject.clientId, subject.channel].filter((part) => part !== undefined).join(' ');
    monitor.admin(action, target, by, subject.clientId === undefined ? { detail: outcome } : { clientId: subject.clientId, detail: outcome });
  }
}
