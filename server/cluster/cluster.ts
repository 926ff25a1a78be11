/**
 * The cluster logic, once (ARCHITECTURE rule 8): who holds which client,
 * takeover across nodes, replicated subscriptions, and routing by node.
 * A single node runs the same code over a LocalBus with no peers.
 */
import type { Broker } from '../broker';
import { storedPush } from '../replay';
import type { Session } from '../session';
import type { BusMessage, ClusterBus } from './bus';
import type { Ownership } from './ownership';

/** Stored copies read at once when redelivering after a bus outage. */
const REDELIVERY_PAGE = 256;

interface RemoteSession {
  node: string;
  fence: number;
}

export class Cluster {
  /** Sessions on other nodes: client id → node and fence. */
  private readonly remote = new Map<string, RemoteSession>();
  private renewTimer: ReturnType<typeof setInterval> | null = null;
  private lastRenewal = Date.now();
  /** node → when a bus message from it last arrived, ms. */
  private readonly heard = new Map<string, number>();

  constructor(
    private readonly broker: Broker,
    readonly bus: ClusterBus,
    readonly ownership: Ownership,
    /** False for a single node: the hot path then skips remote routing. */
    readonly enabled: boolean,
  ) {}

  get nodeId(): string {
    return this.bus.nodeId;
  }

  /** Publishes can be routed everywhere they must go. */
  get ready(): boolean {
    return !this.enabled || this.bus.healthy;
  }

  async start(): Promise<void> {
    await this.bus.start((message, from) => this.receive(message, from));
    if (!this.enabled) return;
    this.bus.onRecovered(() => {
      this.resynchronise().catch((error: Error) => this.broker.log.error(`cluster resynchronisation failed: ${error.message}`));
    });
    this.bus.broadcast({ t: 'hello', node: this.nodeId });
    if (Number.isFinite(this.ownership.leaseMs)) {
      this.renewTimer = setInterval(() => this.tick(), Math.max(200, this.ownership.leaseMs / 3));
      this.renewTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.bus.stop();
  }

  /**
   * Makes this node the one owner of the session's client id. Throws when
   * another node claimed it in the meantime, so at most one session survives a race.
   */
  async claim(session: Session): Promise<void> {
    const fence = await this.ownership.claim(session.clientId);
    session.fence = fence;
    if (this.enabled && !(await this.ownership.holds(session.clientId, fence))) {
      // The newer claim owns the client id now, its temporary subscriptions
      // included: this session's end must leave them alone, as after a takeover.
      session.takenOver = true;
      throw new Error(`client id '${session.clientId}' was claimed by another node meanwhile`);
    }
    this.remote.delete(session.clientId);
    if (this.enabled) this.bus.broadcast({ t: 'session', cl: session.clientId, node: this.nodeId, fence });
  }

  released(session: Session): void {
    if (session.fence === 0) return;
    this.ownership.release(session.clientId, session.fence).catch((error: Error) => {
      this.broker.log.warn(`releasing ${session.describe()}: ${error.message}`);
    });
    if (this.enabled) this.bus.broadcast({ t: 'ended', cl: session.clientId, node: this.nodeId, fence: session.fence });
  }

  subscribed(clientId: string, channel: string, persistent: boolean): void {
    if (this.enabled) this.bus.broadcast({ t: 'sub', cl: clientId, cn: channel, pr: persistent });
  }

  unsubscribed(clientId: string, channels: string[]): void {
    if (this.enabled && channels.length > 0) this.bus.broadcast({ t: 'unsub', cl: clientId, cns: channels });
  }

  /** The node holding a client's session elsewhere, if any. */
  nodeOf(clientId: string): string | undefined {
    return this.remote.get(clientId)?.node;
  }

  isOnline(clientId: string): boolean {
    return this.broker.sessions.has(clientId) || this.remote.has(clientId);
  }

  /** One bus message per node that holds subscribers of this publish. */
  forward(nodes: Iterable<string>, message: Extract<BusMessage, { t: 'pub' }>): void {
    for (const node of nodes) this.bus.send(node, message);
  }

  private receive(message: BusMessage, from: string): void {
    const { broker } = this;
    this.heard.set(from, Date.now());
    switch (message.t) {
      case 'pub':
        broker.publisher.deliverLocal(message.cn, message.dt, message.cl, message.id);
        return;
      case 'sub':
        broker.index.add({ clientId: message.cl, channel: message.cn, persistent: message.pr });
        return;
      case 'unsub':
        for (const channel of message.cns) broker.index.remove(message.cl, channel);
        return;
      case 'session': {
        const local = broker.sessions.get(message.cl);
        // A local session still claiming (fence 0) is left to its claim: when
        // its fence is the older one, holds() fails there; when it is the
        // newer one, the other node closes its session on our announcement.
        // Closing it here would end both sessions of a race.
        if (local && local.fence !== 0 && local.fence < message.fence) {
          broker.log.info(`${local.describe()} taken over by a session on node ${message.node}`);
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
    }
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
    for (const node of new Set([...this.remote.values()].map((session) => session.node))) {
      if ((this.heard.get(node) ?? 0) >= silentSince) continue;
      const forgotten = this.forgetNode(node);
      this.heard.delete(node);
      this.broker.log.warn(`cluster node ${node} silent for ${this.ownership.leaseMs} ms: its ${forgotten} session(s) are taken as ended`);
    }
  }

  private localSessions(): Array<[string, number]> {
    return [...this.broker.sessions.values()].map((session) => [session.clientId, session.fence]);
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
        const session = this.broker.sessions.get(clientId);
        if (!session) continue;
        session.takenOver = true;
        session.close('ownership lost to another node');
      }
    }, (error: Error) => {
      if (Date.now() - this.lastRenewal < this.ownership.leaseMs) return;
      this.broker.log.error(`cannot renew session ownership for ${this.ownership.leaseMs} ms (${error.message}): closing every session`);
      for (const session of [...this.broker.sessions.values()]) session.close('ownership cannot be proven');
    });
  }

  /**
   * After a bus outage: subscriptions from storage, sessions from the other
   * nodes, and the QoS 1 copies waiting for this node's sessions.
   */
  private async resynchronise(): Promise<void> {
    this.broker.log.info('cluster bus recovered: resynchronising subscriptions and sessions');
    await this.broker.reloadSubscriptions();
    this.remote.clear();
    this.bus.broadcast({ t: 'hello', node: this.nodeId });
    this.bus.broadcast({ t: 'sessions', node: this.nodeId, list: this.localSessions() });
    await this.redeliver();
  }

  /**
   * A QoS 1 publish acknowledged just before or during the outage is stored,
   * but its forward to this node may have been lost with the bus, and a live
   * session gets stored copies only at its start (JMQT 5). Pushing what is
   * waiting now keeps "at least once" without waiting for a reconnect; a copy
   * that did arrive comes twice, which QoS 1 allows.
   */
  private async redeliver(): Promise<void> {
    const { broker } = this;
    const waiting = await broker.storage.queuedCounts();
    let pushed = 0;
    for (const session of [...broker.sessions.values()]) {
      if (!waiting.get(session.clientId)) continue;
      // Pages, and deferred once the client's outbound side is full: the copies stay stored.
      for (let after = 0; session.inSession && !session.outboundFull;) {
        const page = await broker.storage.queuedPage(session.clientId, after, REDELIVERY_PAGE);
        if (page.length === 0) break;
        for (const message of page) session.pushQos1(storedPush(message));
        pushed += page.length;
        after = page[page.length - 1]!.seq;
      }
    }
    if (pushed > 0) broker.log.info(`cluster bus recovered: pushed ${pushed} stored QoS 1 message(s) again to this node's sessions`);
  }
}
