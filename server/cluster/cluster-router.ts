/**
 * The cluster logic, once (ARCHITECTURE rule 8), as the cluster implementation
 * of Router: who holds which client, takeover across nodes (protocol 10.5),
 * replicated subscriptions (10.2), and routing by node (10.3). The bus only
 * moves the messages.
 */
import { encodePush } from '../../shared/codec';
import type { Connection } from '../connection';
import { OutFrame } from '../outbound';
import { pushToLocal } from '../routing/local-router';
import type { RoutedPublish, Router } from '../routing/router';
import { MessageFrame } from '../publish/message-id';
import type { BusMessage, ClusterBus } from './bus';
import { ClusterPeers } from './cluster-peers';
import type { ClusterHost } from './host';
import type { Ownership } from './ownership';

interface RemoteSession {
  node: string;
  fence: number;
}

export class ClusterRouter implements Router {
  /** Sessions on other nodes: client id → node and fence. */
  private readonly remote = new Map<string, RemoteSession>();
  private renewTimer: ReturnType<typeof setInterval> | null = null;
  private lastRenewal = Date.now();
  /** node → when a bus message from it last arrived, ms. */
  private readonly heard = new Map<string, number>();
  /** The admin API's questions to the other nodes. */
  private readonly peers: ClusterPeers;

  constructor(
    private readonly host: ClusterHost,
    private readonly bus: ClusterBus,
    private readonly ownership: Ownership & { close?(): Promise<void> },
  ) {
    this.peers = new ClusterPeers(bus, host, { aliveNodes: () => this.aliveNodes(), nodeOf: (clientId) => this.remote.get(clientId)?.node });
    host.usePeers(this.peers);
  }

  get nodeId(): string {
    return this.bus.nodeId;
  }

  get ready(): boolean {
    return this.bus.healthy;
  }

  get busState(): 'ok' | 'down' {
    return this.bus.healthy ? 'ok' : 'down';
  }

  /** The other nodes' sessions are live and own their temporary subscriptions: a new session of a client removes its own leftovers. */
  async removeOrphanedTemporary(): Promise<number> {
    return 0;
  }

  async start(): Promise<void> {
    await this.bus.start((message, from) => this.receive(message, from));
    this.bus.onRecovered(() => {
      this.resynchronise().catch((error: Error) => this.host.log.error(`cluster resynchronisation failed: ${error.message}`));
    });
    this.bus.broadcast({ t: 'hello', node: this.nodeId });
    if (Number.isFinite(this.ownership.leaseMs)) {
      this.renewTimer = setInterval(() => this.tick(), Math.max(200, this.ownership.leaseMs / 3));
      this.renewTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.peers.stop();
    await this.bus.stop();
    await this.ownership.close?.();
  }

  /**
   * Makes this node the one owner of the session's client id. Throws when
   * another node claimed it in the meantime, so at most one session survives a race.
   */
  async claim(connection: Connection): Promise<void> {
    const fence = await this.ownership.claim(connection.clientId);
    connection.fence = fence;
    if (!(await this.ownership.holds(connection.clientId, fence))) {
      // The newer claim owns the client id now, its temporary subscriptions
      // included: this session's end must leave them alone, as after a takeover.
      connection.takenOver = true;
      throw new Error(`client id '${connection.clientId}' was claimed by another node meanwhile`);
    }
    this.remote.delete(connection.clientId);
    this.bus.broadcast({ t: 'session', cl: connection.clientId, node: this.nodeId, fence });
  }

  released(connection: Connection): void {
    if (connection.fence === 0) return;
    this.ownership.release(connection.clientId, connection.fence).catch((error: Error) => {
      this.host.log.warn(`releasing ${connection.describe()}: ${error.message}`);
    });
    this.bus.broadcast({ t: 'ended', cl: connection.clientId, node: this.nodeId, fence: connection.fence });
  }

  subscribed(clientId: string, channel: string, persistent: boolean): void {
    this.bus.broadcast({ t: 'sub', cl: clientId, cn: channel, pr: persistent });
  }

  unsubscribed(clientId: string, channels: string[]): void {
    if (channels.length > 0) this.bus.broadcast({ t: 'unsub', cl: clientId, cns: channels });
  }

  isOnline(clientId: string): boolean {
    return this.host.sessions.has(clientId) || this.remote.has(clientId);
  }

  /** Protocol 10.3: one bus message per node that holds subscribers of this publish, whatever their number there. */
  route(recipients: Iterable<string>, frame: OutFrame, publish: RoutedPublish): number {
    const nodes = new Set<string>();
    const reached = pushToLocal(this.host.sessions, recipients, frame, publish, (clientId) => {
      const node = this.remote.get(clientId)?.node;
      if (node) nodes.add(node);
    });
    if (nodes.size === 0) return reached;
    const message: BusMessage = { t: 'pub', cn: publish.channel, dt: publish.data, cl: publish.sender };
    if (publish.id !== undefined) message.id = publish.id;
    for (const node of nodes) this.bus.send(node, message);
    return reached + nodes.size;
  }

  /** A publish routed here by another node: to this node's subscribers of the channel; QoS 1 copies are in shared storage already, under `id`. */
  private deliverRouted(publish: RoutedPublish): void {
    const subscribers = this.host.index.subscribers(publish.channel);
    if (!subscribers) return;
    const frame = publish.id === undefined
      ? new OutFrame(encodePush(publish.channel, publish.data, publish.sender, ''))
      : new MessageFrame(encodePush(publish.channel, publish.data, publish.sender, { id: publish.id }), publish.id);
    pushToLocal(this.host.sessions, subscribers.keys(), frame, publish);
  }

  private receive(message: BusMessage, from: string): void {
    const { host } = this;
    this.heard.set(from, Date.now());
    switch (message.t) {
      case 'pub': {
        const publish: RoutedPublish = { channel: message.cn, data: message.dt, sender: message.cl };
        if (message.id !== undefined) publish.id = message.id;
        this.deliverRouted(publish);
        return;
      }
      case 'sub':
        host.index.add({ clientId: message.cl, channel: message.cn, persistent: message.pr });
        return;
      case 'unsub':
        for (const channel of message.cns) host.index.remove(message.cl, channel);
        return;
      case 'session': {
        const local = host.sessions.get(message.cl);
        // A local session still claiming (fence 0) is left to its claim: when
        // its fence is the older one, holds() fails there; when it is the
        // newer one, the other node closes its session on our announcement.
        // Closing it here would end both sessions of a race.
        if (local && local.fence !== 0 && local.fence < message.fence) {
          host.log.info(`${local.describe()} taken over by a session on node ${message.node}`);
          local.takenOver = true;
          local.close(`taken over by a session on node ${message.node}`);
        }
        // An older session elsewhere, which our announcement is closing: not where the client is.
        if (local && local.fence > message.fence) return;
        this.learn(message.cl, { node: message.node, fence: message.fence });
        return;
      }
      case 'ended':
        if (this.remote.get(message.cl)?.fence === message.fence) this.remote.delete(message.cl);
        return;
      case 'hello':
        // A node says hello when it starts, holding no session yet: whatever it
        // held before a crash is gone (it resends its list after an outage).
        this.forgetNode(from);
        this.bus.send(from, { t: 'sessions', node: this.nodeId, list: this.localSessions() });
        return;
      case 'alive':
        return;
      case 'sessions':
        for (const [clientId, fence] of message.list) this.learn(clientId, { node: message.node, fence });
        return;
      case 'kick': case 'ask': case 'answer': case 'watch': case 'event':
        this.peers.receive(message, from);
        return;
    }
  }

  /** Nodes heard from within a lease (every node says it is alive every lease / 3). */
  private aliveNodes(): string[] {
    const since = Date.now() - (Number.isFinite(this.ownership.leaseMs) ? this.ownership.leaseMs : 30_000);
    return [...this.heard].filter(([node, at]) => at >= since && node !== this.nodeId).map(([node]) => node);
  }

  private learn(clientId: string, session: RemoteSession): void {
    const known = this.remote.get(clientId);
    if (!known || known.fence < session.fence) this.remote.set(clientId, session);
  }

  private forgetNode(node: string): number {
    let forgotten = 0;
    for (const [clientId, session] of this.remote) {
      if (session.node === node) {
        this.remote.delete(clientId);
        forgotten++;
      }
    }
    return forgotten;
  }

  /**
   * Every lease / 3: renew this node's leases, say it is alive, and forget
   * the sessions of nodes silent for a whole lease (killed, or cut off; a
   * node cut off from the bus that long closes its sessions itself, see
   * renew()). Otherwise their clients would look online forever: P2P
   * answering 1 instead of 8, and publishes forwarded to nobody.
   */
  private tick(): void {
    this.renew();
    if (!this.bus.healthy) return;
    this.bus.broadcast({ t: 'alive', node: this.nodeId });
    const silentSince = Date.now() - this.ownership.leaseMs;
    for (const node of new Set([...this.remote.values()].map((connection) => connection.node))) {
      if ((this.heard.get(node) ?? 0) >= silentSince) continue;
      const forgotten = this.forgetNode(node);
      this.heard.delete(node);
      this.host.log.warn(`cluster node ${node} silent for ${this.ownership.leaseMs} ms: its ${forgotten} session(s) are taken as ended`);
    }
  }

  /**
   * This node's sessions with their fences. A session whose claim has not
   * answered yet (fence 0) is left out: renewing it would find the new fence
   * and report the id lost, closing a session no other node claimed.
   */
  private localSessions(): Array<[string, number]> {
    const held: Array<[string, number]> = [];
    for (const connection of this.host.sessions.values()) if (connection.fence !== 0) held.push([connection.clientId, connection.fence]);
    return held;
  }

  /**
   * Extends this node's leases. A client id another node took is closed here;
   * and when the leases cannot be renewed for a whole lease, every session is
   * closed, since this node can no longer prove it still owns them.
   */
  private renew(): void {
    const held = this.localSessions();
    this.ownership.renew(held).then((lost) => {
      this.lastRenewal = Date.now();
      for (const clientId of lost) {
        const connection = this.host.sessions.get(clientId);
        if (!connection) continue;
        connection.takenOver = true;
        connection.close('ownership lost to another node');
      }
    }, (error: Error) => {
      if (Date.now() - this.lastRenewal < this.ownership.leaseMs) return;
      this.host.log.error(`cannot renew session ownership for ${this.ownership.leaseMs} ms (${error.message}): closing every session`);
      for (const connection of [...this.host.sessions.values()]) connection.close('ownership cannot be proven');
    });
  }


  /** After a bus outage: sessions from the other nodes; subscriptions and stored copies through the host. */
  private async resynchronise(): Promise<void> {
    this.host.log.info('cluster bus recovered: resynchronising subscriptions and sessions');
    this.remote.clear();
    this.bus.broadcast({ t: 'hello', node: this.nodeId });
    this.bus.broadcast({ t: 'sessions', node: this.nodeId, list: this.localSessions() });
    await this.host.resynchronise();
  }
}
