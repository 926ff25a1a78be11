/**
 * Peers over the cluster bus: a question goes to every node with a request
 * id and is answered by each; the asking node waits for the nodes it heard
 * from within a lease, at most PEER_TIMEOUT_MS, and reports the silent ones.
 * A kick goes to the one node holding the session. Events are forwarded only
 * to nodes that said, within the last WATCH_TTL_MS, that a dashboard watches.
 */
import type { BrokerEvent } from '../events/event-log';
import type { BusMessage, ClusterBus } from './bus';
import type { ClusterHost } from './host';
import { PEER_TIMEOUT_MS, type PeerAnswers, type PeerQuery, type Peers } from './peers';

/** What the peers need of the cluster router: which nodes are alive, and where a client has its session. */
export interface NodeDirectory {
  aliveNodes(): string[];
  nodeOf(clientId: string): string | undefined;
}

type Answered = (from: string, answer: unknown) => void;

const WATCH_EVERY_MS = 5000;
const WATCH_TTL_MS = 3 * WATCH_EVERY_MS;

export class ClusterPeers implements Peers {
  readonly clustered = true;
  private readonly pending = new Map<string, Answered>();
  /** Node → until when it watches events live, ms since epoch. */
  private readonly watchers = new Map<string, number>();
  private requests = 0;
  private watchTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly bus: ClusterBus, private readonly host: ClusterHost, private readonly nodes: NodeDirectory) {}

  ask(query: PeerQuery): Promise<PeerAnswers> {
    const expected = new Set(this.nodes.aliveNodes());
    if (expected.size === 0 || !this.bus.healthy) return Promise.resolve({ answers: [], missing: [...expected] });
    const rid = this.newRequestId();
    const answers: PeerAnswers['answers'] = [];
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.pending.delete(rid);
        resolve({ answers, missing: [...expected].sort() });
      };
      const timer = setTimeout(finish, PEER_TIMEOUT_MS);
      timer.unref();
      this.pending.set(rid, (from, answer) => {
        expected.delete(from);
        answers.push({ node: from, answer });
        if (expected.size === 0) finish();
      });
      this.bus.broadcast({ t: 'ask', rid, q: query });
    });
  }

  kick(clientId: string, by: string): Promise<string | null> {
    const node = this.nodes.nodeOf(clientId);
    if (node === undefined) return Promise.resolve(null);
    const rid = this.newRequestId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new Error(`node ${node} did not answer the kick within ${PEER_TIMEOUT_MS} ms`));
      }, PEER_TIMEOUT_MS);
      timer.unref();
      this.pending.set(rid, (_from, answer) => {
        clearTimeout(timer);
        this.pending.delete(rid);
        resolve((answer as { kicked?: boolean } | null)?.kicked ? node : null);
      });
      this.bus.send(node, { t: 'kick', rid, cl: clientId, by });
    });
  }

  shareEvent(event: BrokerEvent): void {
    if (this.watchers.size === 0) return;
    const now = Date.now();
    for (const [node, until] of this.watchers) {
      if (until < now) this.watchers.delete(node);
      else this.bus.send(node, { t: 'event', e: event });
    }
  }

  watchEvents(watching: boolean): void {
    if (watching === (this.watchTimer !== null)) return;
    if (!watching) {
      clearInterval(this.watchTimer!);
      this.watchTimer = null;
      this.bus.broadcast({ t: 'watch', until: 0 });
      return;
    }
    const announce = () => this.bus.broadcast({ t: 'watch', until: Date.now() + WATCH_TTL_MS });
    announce();
    this.watchTimer = setInterval(announce, WATCH_EVERY_MS);
    this.watchTimer.unref();
  }

  /** The cluster router hands over the messages that are the peers' business. */
  receive(message: BusMessage, from: string): void {
    switch (message.t) {
      case 'ask':
        this.host.answerPeer(message.q).then(
          (answer) => this.bus.send(from, { t: 'answer', rid: message.rid, a: answer ?? null }),
          (error: Error) => {
            this.host.log.warn(`answering node ${from}'s ${message.q.kind} query: ${error.message}`);
            this.bus.send(from, { t: 'answer', rid: message.rid, a: null });
          },
        );
        return;
      case 'kick':
        this.bus.send(from, { t: 'answer', rid: message.rid, a: { kicked: this.host.kickLocal(message.cl, message.by) } });
        return;
      case 'answer':
        this.pending.get(message.rid)?.(from, message.a);
        return;
      case 'watch':
        if (message.until > Date.now()) this.watchers.set(from, message.until);
        else this.watchers.delete(from);
        return;
      case 'event':
        this.host.relayEvent(message.e);
        return;
      default:
        return;
    }
  }

  /** Questions in flight end at their timeout. */
  stop(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
    this.watchers.clear();
  }

  private newRequestId(): string {
    return `${this.bus.nodeId}:${++this.requests}`;
  }
}
