/**
 * What the admin API shows, across a cluster: the sessions of this node
 * (paged, searched), one client (its session wherever it is, subscriptions,
 * queue, counters summed over the nodes), its queued copies, retained
 * messages, the trace of one message and recent events, each merged from
 * every node's part. Also what this node answers when another one asks.
 */
import type { Connection } from '../connection';
import type { PeerQuery } from '../cluster/peers';
import { eventView, type BrokerEvent } from '../events/event-log';
import { messageTime } from '../publish/message-id';
import { mergeTrace, pendingOf, type TraceAnswer } from '../trace/trace-merge';
import type { ClientMarker, NodeTrace } from '../trace/trace-store';
import { addCounters, newClientCounters, type ClientCounters } from './client-stats';
import type { AdminParts } from './parts';

/** Largest page of any list, and the default one. */
export const MAX_PAGE = 1000;
const MAX_MARKER_CLIENTS = 1000;

export interface SessionView {
  node: string;
  transport: string;
  remoteHost: string;
  connectedAt: string;
  lastSeenMs: number;
  outboundBytes: number;
}

/** One node's part of a client: its session there, and its counters there. */
interface LocalClient {
  session: SessionView | null;
  counters: ClientCounters | null;
}

const isObject = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

export class AdminViews {
  constructor(private readonly parts: AdminParts) {}

  private get node(): string {
    return this.parts.router.nodeId;
  }

  sessionOf(connection: Connection): SessionView {
    return {
      node: this.node,
      transport: connection.protocol,
      remoteHost: connection.remoteHost,
      connectedAt: new Date(connection.connectedAt).toISOString(),
      lastSeenMs: Date.now() - connection.lastSeen,
      outboundBytes: connection.bufferedBytes,
    };
  }

  /** This node's sessions whose client id contains `search`, by client id, from `offset`, at most `limit` (null: all); and how many match. */
  sessions(search: string, offset: number, limit: number | null): { page: Connection[]; total: number } {
    const matching = [...this.parts.sessions.values()].filter((connection) => connection.clientId.includes(search));
    matching.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
    return { page: matching.slice(offset, limit === null ? undefined : offset + limit), total: matching.length };
  }

  private localClient(clientId: string): LocalClient {
    const connection = this.parts.sessions.get(clientId);
    return {
      session: connection ? this.sessionOf(connection) : null,
      // A live session's pushes are added to its counters when it ends; until then they are the connection's.
      counters: connection ? { ...connection.stats, delivered: connection.stats.delivered + connection.pushes } : this.parts.monitor.clients.peek(clientId) ?? null,
    };
  }

  /** Null when no node knows anything of `clientId`. */
  async client(clientId: string): Promise<Record<string, unknown> | null> {
    const { storage, index, router, peers, queueDepths } = this.parts;
    const [{ answers, missing }, depth] = await Promise.all([peers.ask({ kind: 'client', clientId }), storage.queuedCount(clientId)]);
    const parts = [this.localClient(clientId), ...answers.map(({ answer }) => answer).filter(isObject) as LocalClient[]];
    const session = parts.find((part) => part.session)?.session ?? null;
    const counted = parts.filter((part) => isObject(part.counters));
    const channels = index.channelsOf(clientId);
    if (!session && !channels?.size && depth === 0 && counted.length === 0) return null;
    const oldest = depth > 0 ? (await storage.queuedPage(clientId, 0, 1))[0] : undefined;
    const oldestAt = oldest ? messageTime(oldest.id) : null;
    return {
      clientId,
      online: session !== null || router.isOnline(clientId),
      session,
      subscriptions: Object.fromEntries([...(channels ?? [])].map(([channel, persistent]) => [channel, persistent ? 'persistent' : 'temp'])),
      queue: { depth, oldestId: oldest?.id ?? null, oldestAgeMs: oldestAt === null ? null : Math.max(0, Date.now() - oldestAt) },
      counters: counted.reduce((sum, part) => addCounters(sum, part.counters!), newClientCounters()),
      evictedQos1: queueDepths.evictedOf(clientId),
      nodes: { missing },
    };
  }

  async queue(clientId: string, limit: number): Promise<Record<string, unknown>> {
    const [page, total] = await Promise.all([this.parts.storage.queuedPage(clientId, 0, limit), this.parts.storage.queuedCount(clientId)]);
    const now = Date.now();
    return {
      clientId,
      total,
      copies: page.map(({ id, channel, sender, data }) => {
        const at = messageTime(id);
        return { id, channel, sender, bytes: Buffer.byteLength(data), ageMs: at === null ? null : Math.max(0, now - at) };
      }),
    };
  }

  async retained(prefix: string, offset: number, limit: number | null): Promise<Record<string, unknown>> {
    const all = (await this.parts.storage.allRetained()).filter((message) => message.channel.startsWith(prefix));
    all.sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
    const retained = all.slice(offset, limit === null ? undefined : offset + limit).map(({ channel, data, sender }) => ({ channel, sender, data: JSON.parse(data), bytes: Buffer.byteLength(data) }));
    return { retained, total: all.length, offset, limit };
  }

  /** `key` is a server id, or `publisherId:pubId`; null when no node traced it. */
  async trace(key: string): Promise<TraceAnswer | null> {
    const { monitor, peers } = this.parts;
    const asked = await peers.ask({ kind: 'trace', id: key });
    let views = this.views(monitor.trace.view(key, this.node), asked.answers);
    let missing = asked.missing;
    const id = views[0]?.id;
    if (id === undefined) return null;
    if (id !== key) {
      // Found by the publisher's id on the node it published to; the others know the message by its server id only.
      const again = await peers.ask({ kind: 'trace', id });
      views = this.views(monitor.trace.view(id, this.node), again.answers);
      missing = again.missing;
    }
    const pending = pendingOf(views);
    const markers: Array<ClientMarker & { node: string }> = [];
    if (pending) {
      const query = { ...pending, clientIds: pending.clientIds.slice(0, MAX_MARKER_CLIENTS) };
      for (const marker of monitor.trace.markersFor(query.clientIds, query.since, query.channel)) markers.push({ ...marker, node: this.node });
      const { answers } = await peers.ask({ kind: 'markers', ...query });
      for (const { node, answer } of answers) {
        if (Array.isArray(answer)) for (const marker of answer) if (isObject(marker)) markers.push({ ...(marker as ClientMarker), node });
      }
    }
    return mergeTrace(views, markers, missing);
  }

  private views(local: NodeTrace | null, answers: Array<{ answer: unknown }>): NodeTrace[] {
    const views = answers.map(({ answer }) => answer).filter((answer): answer is NodeTrace => isObject(answer) && Array.isArray(answer['steps']));
    return local ? [local, ...views] : views;
  }

  /** Newest first over every node; `missing` names the nodes that did not answer. */
  async events(clientId: string | undefined, limit: number): Promise<{ events: unknown[]; missing: string[] }> {
    const local = this.parts.monitor.events.recent(limit, clientId);
    const { answers, missing } = await this.parts.peers.ask(clientId === undefined ? { kind: 'events', limit } : { kind: 'events', clientId, limit });
    const all = [...local];
    for (const { answer } of answers) if (Array.isArray(answer)) all.push(...(answer.filter(isObject) as BrokerEvent[]));
    all.sort((a, b) => b.at - a.at || b.seq - a.seq);
    return { events: all.slice(0, limit).map(eventView), missing };
  }

  /** Another node asks: this node's part only, bounded like the API's own answers. */
  async answerPeer(query: PeerQuery): Promise<unknown> {
    const { monitor } = this.parts;
    switch (query.kind) {
      case 'client':
        return typeof query.clientId === 'string' ? this.localClient(query.clientId) : null;
      case 'trace':
        return typeof query.id === 'string' ? monitor.trace.view(query.id, this.node) : null;
      case 'markers':
        if (!Array.isArray(query.clientIds) || typeof query.channel !== 'string' || typeof query.since !== 'number') return [];
        return monitor.trace.markersFor(query.clientIds.slice(0, MAX_MARKER_CLIENTS), query.since, query.channel);
      case 'events': {
        const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(Number(query.limit)) || 1));
        return monitor.events.recent(limit, typeof query.clientId === 'string' ? query.clientId : undefined);
      }
      default:
        return null;
    }
  }
}
