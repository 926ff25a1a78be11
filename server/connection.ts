/**
 * One client connection: its state (no session yet → session → closed), the
 * in-order processing of its packets, and the one check of its outbound side
 * that every write passes (protocol 11.3): while more than OUTBOUND_BUFFER_BYTES
 * wait to be written, or while the client is over its publish budget, the
 * connection's inbound packets wait and its socket is not read.
 */
import { TAKEN_OVER_CLOSE_CODE, type TransportName } from '../shared/keys';
import type { ServerPacket } from '../shared/packets';
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
 * Frames worked off the backlog before yielding to the event loop: answers of
 * async handlers chain as microtasks, and without a yield one busy client
 * would hold every other client's packets (their hb answers included).
 */
const MAX_STREAK = 64;

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
  /** Since when the outbound buffer is over OUTBOUND_BUFFER_BYTES, ms; 0 when it is not. */
  overLimitSince = 0;
  /** More than OUTBOUND_BUFFER_BYTES wait to be written: QoS 0 pushes are dropped, QoS 1 deferred, reading stops. */
  outboundFull = false;
  /** Over the publish budget until a timer lifts it. */
  private throttled = false;
  /** The socket is not being read (see wantsInput). */
  private readingPaused = false;

  private backlog: string[] = [];
  private backlogBytes = 0;
  private busy = false;
  private streak = 0;
  private yielded = false;
  private writableWaiters: Array<() => void> = [];
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
    this.lastSeen = Date.now();
    if (this.state === 'closed') return;
    if (this.busy || this.held || this.backlog.length > 0) {
      this.backlog.push(text);
      this.backlogBytes += text.length;
      this.updateReading();
      return;
    }
    this.run(text);
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
      pending.then(this.afterHandler, this.afterFailedHandler);
    }
  }

  private readonly afterHandler = (): void => {
    this.busy = false;
    this.work();
  };

  private readonly afterFailedHandler = (error: unknown): void => {
    this.fail(error);
    this.afterHandler();
  };

  private readonly afterYield = (): void => {
    this.yielded = false;
    this.work();
  };

  /** Works off the backlog in order, yielding to the event loop every MAX_STREAK frames. */
  private work(): void {
    while (!this.busy && !this.held && !this.yielded && this.backlog.length > 0 && this.state !== 'closed') {
      if (++this.streak > MAX_STREAK) {
        this.streak = 0;
        this.yielded = true;
        setImmediate(this.afterYield);
        break;
      }
      const text = this.backlog.shift()!;
      this.backlogBytes -= text.length;
      this.run(text);
    }
    if (this.backlog.length === 0) this.streak = 0;
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
      this.wire.onceDrained(this.outboundDrained);
    }
  }

  private readonly outboundDrained = (): void => {
    if (this.state === 'closed') return;
    if (this.wire.bufferedBytes > this.host.outboundLimit) {
      this.wire.onceDrained(this.outboundDrained);
      return;
    }
    this.outboundFull = false;
    this.overLimitSince = 0;
    for (const resolve of this.writableWaiters.splice(0)) resolve();
    this.work();
  };

  /** Resolves once the outbound side is under its cap, at once when it is; also when the connection closes. */
  whenWritable(): Promise<void> {
    if (!this.outboundFull || this.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
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
    setTimeout(this.endThrottle, waitMs).unref();
  }

  private readonly endThrottle = (): void => {
    this.throttled = false;
    this.work();
  };

  /** QoS 0 push: dropped (and counted) while the client is not reading fast enough. */
  pushQos0(frame: OutFrame): void {
    if (this.state !== 'session') return;
    if (this.outboundFull) {
      this.host.countDroppedPush();
      return;
    }
    this.host.countOut(1);
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
      this.host.countDeferredPush();
      return;
    }
    this.host.countOut(1);
    this.write(frame);
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
    this.write(frame);
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
    // 4000 tells a WebSocket client it was replaced, so it need not fight back with a reconnect.
    this.wire.close(this.takenOver ? TAKEN_OVER_CLOSE_CODE : 1000, reason.slice(0, 120));
  }

  /** Called by the transport when the connection is gone; a no-op after close(). */
  closed(): void {
    if (this.state === 'closed') return;
    if (!this.endReason) this.endReason = 'connection closed';
    this.host.sessionClosed(this, this.endReason);
    this.state = 'closed';
    this.backlog = [];
    this.backlogBytes = 0;
    for (const resolve of this.writableWaiters.splice(0)) resolve();
  }

  describe(): string {
    return `client ${this.clientId ? quote(this.clientId) : '-'} from ${this.remoteHost} over ${this.protocol}`;
  }
}
