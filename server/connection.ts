/**
 * One client connection: its state (no session yet → session → closed), the
 * in-order processing of its packets, and the one check of its outbound side
 * that every write passes (protocol 11.3): while more than OUTBOUND_BUFFER_BYTES
 * wait to be written, or while the client is over its publish budget, the
 * connection's inbound packets wait and its socket is not read.
 */
import { DRAINING_CLOSE_CODE, KICKED_CLOSE_CODE, TAKEN_OVER_CLOSE_CODE, type TransportName } from '../shared/keys';
import type { ServerPacket } from '../shared/packets';
import { UNCOUNTED, type ClientCounters } from './admin/client-stats';
import type { Peer } from './hooks';
import type { PublishRate } from './limits/publish-rate';
import { quote } from './log-text';
import { OutFrame, type Wire } from './outbound';

export type SessionState = 'open' | 'session' | 'closed';

/** What a connection needs of the broker; keeps connection.ts free of broker internals (ARCHITECTURE rule 13). */
export interface ConnectionHost {
  /** Handles each inbound packet's text; may answer a Promise, and the next packet waits for it. */
  readonly dispatcher: { handleText(connection: Connection, text: string): void | Promise<void> };
  sessionClosed(connection: Connection, reason: string): void;
  countOut(pushes: number): void;
  countPacketOut(type: string): void;
  countDroppedPush(): void;
  countDeferredPush(): void;
  /** Where QoS 1 pushes (written or deferred) and dropped QoS 0 pushes are noted: trace and events (admin API). */
  readonly monitor: { pushed(clientId: string, frame: OutFrame, deferred: boolean): void; droppedOutbound(clientId: string): void };
  /** A client went over its publish budget and is throttled. */
  countThrottled(connection: Connection): void;
  readonly outboundLimit: number;
  /** A publish budget for a new connection; null when PUBLISH_RATE_* set no limit. */
  newPublishRate(): PublishRate | null;
}

/** Inbound frames (or bytes of them) waiting before the socket stops being read. */
const BACKLOG_PAUSE = 256;
const BACKLOG_PAUSE_BYTES = 1024 * 1024;
/**
 * Time one connection may spend handling its packets in one turn of the event
 * loop before it yields, ms: one read may hold thousands of packets, and the
 * answers of async handlers chain as microtasks; without a yield one busy
 * client would hold every other client's packets (their hb answers
 * included). A budget of time, not of packets, keeps the large batches (and
 * few system calls) that make fan-out fast.
 */
const TURN_BUDGET_MS = 5;

/** Counts turns of the event loop, with one setImmediate per turn in which packets arrive (none while idle). */
let turn = 0;
let turnMarked = false;
function nextTurn(): void {
  turn++;
  turnMarked = false;
}
function currentTurn(): number {
  if (!turnMarked) {
    turnMarked = true;
    setImmediate(nextTurn);
  }
  return turn;
}
/** The empty backlog of every connection that never queued a frame. */
const NO_FRAMES: string[] = [];

export class Connection implements Peer {
  clientId = '';
  state: SessionState = 'open';
  /** Time of the last inbound frame, ms: the idle sweep closes sessions silent for `ts` seconds. */
  lastSeen = Date.now();
  readonly connectedAt = Date.now();
  /** Why the session ended; set once. */
  endReason = '';
  /** The client sent `disconn`. */
  disconnected = false;
  /** Ownership fence of this session's claim on its client id; 0 before conn. */
  fence = 0;
  /** A newer session of the same client id replaced this one (here or on another node). */
  takenOver = false;
  /** An operator ended the session (admin API). */
  kicked = false;
  /** Closed by a drain of this node (server/drain.ts): the client should reconnect at once, elsewhere. */
  drained = false;
  /** This client's counters (admin API), the broker's once the session starts. */
  stats: ClientCounters = UNCOUNTED;
  /** Pushes written in this session, added to `stats.delivered` when it ends: one increment on the hot path, no lookup. */
  pushes = 0;
  /** Since when the outbound buffer is over OUTBOUND_BUFFER_BYTES, ms; 0 when it is not. */
  overLimitSince = 0;
  /** More than OUTBOUND_BUFFER_BYTES wait to be written: QoS 0 pushes are dropped, QoS 1 deferred, reading stops. */
  outboundFull = false;
  /** Over the publish budget until a timer lifts it. */
  private throttled = false;
  /** The socket is not being read (see wantsInput). */
  private readingPaused = false;

  /** Frames waiting their turn; one array shared by no one until a connection first needs it (most never do). */
  private backlog: string[] = NO_FRAMES;
  private backlogBytes = 0;
  private busy = false;
  /** The turn of the event loop this connection last handled a packet in, and when in it it started. */
  private turnSeen = -1;
  private turnStartedAt = 0;
  private yielded = false;
  private writableWaiters: Array<() => void> | null = null;
  /** Undefined until the first publish: most connections never need one. */
  private rate: PublishRate | null | undefined;
  /** Protocol 5.5: stored QoS 1 copies go first after connAck; live QoS 1 pushes are left to the replay, which reads them from storage. */
  private replaying = false;

  constructor(
    private readonly host: ConnectionHost,
    private readonly wire: Wire,
    readonly protocol: TransportName,
    readonly remoteHost: string,
  ) {}

  /** One inbound packet's text; handled strictly in arrival order. */
  receive(text: string): void {
    const now = Date.now();
    this.lastSeen = now;
    if (this.state === 'closed') return;
    if (this.busy || this.held || this.backlog.length > 0) {
      this.queue(text);
      return;
    }
    // Synchronous handlers (QoS 0 pubs) count too: one read can hold thousands of frames.
    if (this.overBudget(now)) {
      this.queue(text);
      this.yieldTurn();
      return;
    }
    this.run(text);
  }

  private overBudget(now: number): boolean {
    const current = currentTurn();
    if (current !== this.turnSeen) {
      this.turnSeen = current;
      this.turnStartedAt = now;
      return false;
    }
    return now - this.turnStartedAt >= TURN_BUDGET_MS;
  }

  private queue(text: string): void {
    if (this.backlog === NO_FRAMES) this.backlog = [];
    this.backlog.push(text);
    this.backlogBytes += text.length;
    this.updateReading();
  }

  /** Lets every other connection have its turn before this one handles more. */
  private yieldTurn(): void {
    this.yielded = true;
    setImmediate(() => this.afterYield());
  }

  /** Inbound work waits: the client's outbound side is full or it is over its publish budget. */
  private get held(): boolean {
    return this.outboundFull || this.throttled;
  }

  /** Whether the idle sweep may judge this connection: a connection we stopped reading is silent by our doing. */
  get reading(): boolean {
    return !this.readingPaused;
  }

  private run(text: string): void {
    let pending: void | Promise<void>;
    try {
      pending = this.host.dispatcher.handleText(this, text);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (pending) {
      this.busy = true;
      pending.then(() => this.afterHandler(), (error: unknown) => this.afterFailedHandler(error));
    }
  }

  // Methods, not arrow properties: a closure per connection would cost every idle session its bytes.
  private afterHandler(): void {
    this.busy = false;
    this.work();
  }

  private afterFailedHandler(error: unknown): void {
    this.fail(error);
    this.afterHandler();
  }

  private afterYield(): void {
    this.yielded = false;
    this.work();
  }

  /** Works off the backlog in order, yielding to the event loop once over its budget for this turn. */
  private work(): void {
    while (!this.busy && !this.held && !this.yielded && this.backlog.length > 0 && this.state !== 'closed') {
      if (this.overBudget(Date.now())) {
        this.yieldTurn();
        break;
      }
      const text = this.backlog.shift()!;
      this.backlogBytes -= text.length;
      this.run(text);
    }
    this.updateReading();
  }

  /** Reads the socket only while nothing holds inbound work back and the backlog is short. */
  private updateReading(): void {
    if (this.state === 'closed') return;
    const pause = this.held || this.backlog.length >= BACKLOG_PAUSE || this.backlogBytes >= BACKLOG_PAUSE_BYTES;
    if (pause === this.readingPaused) return;
    this.readingPaused = pause;
    if (pause) {
      this.wire.pause();
    } else {
      // What the client sent meanwhile is still unread: its silence was the broker's doing.
      this.lastSeen = Date.now();
      this.wire.resume();
    }
  }

  private fail(error: unknown): void {
    // Handlers answer their own errors; reaching here is a bug, never the client's doing.
    this.close(`internal error: ${(error as Error)?.stack ?? error}`);
  }

  send(packet: ServerPacket): void {
    // A refused request (every ack but push carries `st`), counted per client by status.
    if ('st' in packet && packet.st !== 1) this.stats.refused[packet.st] = (this.stats.refused[packet.st] ?? 0) + 1;
    this.write(OutFrame.of(packet), packet.type);
  }

  /** Every packet leaves through here, and here the outbound side is checked; `type` defaults to the one written most, push. */
  write(frame: OutFrame, type = 'push'): void {
    if (this.state === 'closed') return;
    this.host.countPacketOut(type);
    this.wire.write(frame);
    if (!this.outboundFull && this.wire.bufferedBytes > this.host.outboundLimit) {
      this.outboundFull = true;
      this.updateReading();
      this.wire.onceDrained(() => this.outboundDrained());
    }
  }

  private outboundDrained(): void {
    if (this.state === 'closed') return;
    if (this.wire.bufferedBytes > this.host.outboundLimit) {
      this.wire.onceDrained(() => this.outboundDrained());
      return;
    }
    this.outboundFull = false;
    this.overLimitSince = 0;
    this.releaseWriters();
    this.work();
  }

  private releaseWriters(): void {
    const waiters = this.writableWaiters;
    this.writableWaiters = null;
    for (const resolve of waiters ?? []) resolve();
  }

  /** Resolves once the outbound side is under its cap, at once when it is; also when the connection closes. */
  whenWritable(): Promise<void> {
    if (!this.outboundFull || this.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => (this.writableWaiters ??= []).push(resolve));
  }

  /**
   * Charges the client's publish budget (PUBLISH_RATE_*): each pub and each
   * control answer. Over it, inbound work waits until the budget is back.
   */
  charge(messages: number, bytes: number): void {
    if (this.rate === undefined) this.rate = this.host.newPublishRate();
    if (this.rate === null) return;
    const waitMs = this.rate.spend(messages, bytes);
    if (waitMs === 0 || this.throttled) return;
    this.throttled = true;
    this.host.countThrottled(this);
    this.updateReading();
    setTimeout(() => this.endThrottle(), waitMs).unref();
  }

  private endThrottle(): void {
    this.throttled = false;
    this.work();
  }

  /** QoS 0 push: dropped (and counted) while the client is not reading fast enough. */
  pushQos0(frame: OutFrame): void {
    if (this.state !== 'session') return;
    if (this.outboundFull) {
      this.stats.dropped.outboundCap++;
      this.host.countDroppedPush();
      this.host.monitor.droppedOutbound(this.clientId);
      return;
    }
    this.host.countOut(1);
    this.pushes++;
    this.write(frame);
  }

  /**
   * QoS 1 push. While the outbound side is full it is deferred, not written:
   * the stored copy stays until acknowledged and goes out again next session,
   * so memory stays bounded and nothing is lost. During replay it is left to
   * the replay, which reads it from storage in order.
   */
  pushQos1(frame: OutFrame): void {
    if (this.state !== 'session' || this.replaying) return;
    if (this.outboundFull) {
      this.stats.deferred++;
      this.host.countDeferredPush();
      this.host.monitor.pushed(this.clientId, frame, true);
      return;
    }
    this.host.countOut(1);
    this.pushes++;
    this.write(frame);
    this.host.monitor.pushed(this.clientId, frame, false);
  }

  /** A getter, so TypeScript does not carry a narrowed state across an await. */
  get inSession(): boolean {
    return this.state === 'session';
  }

  startReplay(): void {
    this.replaying = true;
  }

  /** Pushes one stored copy during replay. */
  replayPush(frame: OutFrame): void {
    this.host.countOut(1);
    this.pushes++;
    this.write(frame);
    this.host.monitor.pushed(this.clientId, frame, false);
  }

  finishReplay(): void {
    this.replaying = false;
  }

  get bufferedBytes(): number {
    return this.wire.bufferedBytes;
  }

  /** Ends the session now and closes the connection after what is queued is written. */
  close(reason: string): void {
    if (!this.endReason) this.endReason = reason;
    this.closed();
    // 4000 tells a WebSocket client it was replaced, so it need not fight back with a reconnect; 4001 that an operator ended it.
    // 4002 that the node is draining and the client should come back at once (through the load balancer).
    const code = this.kicked ? KICKED_CLOSE_CODE : this.takenOver ? TAKEN_OVER_CLOSE_CODE : this.drained ? DRAINING_CLOSE_CODE : 1000;
    this.wire.close(code, reason.slice(0, 120));
  }

  /** Called by the transport when the connection is gone; a no-op after close(). */
  closed(): void {
    if (this.state === 'closed') return;
    if (!this.endReason) this.endReason = 'connection closed';
    this.host.sessionClosed(this, this.endReason);
    this.state = 'closed';
    this.backlog = NO_FRAMES;
    this.backlogBytes = 0;
    this.releaseWriters();
  }

  describe(): string {
    return `client ${this.clientId ? quote(this.clientId) : '-'} from ${this.remoteHost} over ${this.protocol}`;
  }
}
