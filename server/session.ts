/**
 * One client connection: its state (no session yet → session → closed), the
 * in-order processing of its packets, and its outbound side.
 */
import { TAKEN_OVER_CLOSE_CODE, type TransportName } from '../shared/keys';
import type { ServerPacket } from '../shared/packets';
import type { Peer } from './hooks';
import { OutFrame, type Wire } from './outbound';

export type SessionState = 'open' | 'session' | 'closed';

/** What a session needs of the broker; keeps session.ts free of broker internals. */
export interface SessionHost {
  handleText(session: Session, text: string): void | Promise<void>;
  sessionClosed(session: Session, reason: string): void;
  countOut(pushes: number): void;
  countPacketOut(type: string): void;
  countDroppedPush(): void;
  countDeferredPush(): void;
  readonly outboundLimit: number;
}

/** Inbound frames waiting behind a slow (async) handler before the socket is paused. */
const BACKLOG_PAUSE = 256;

export class Session implements Peer {
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

  private backlog: string[] = [];
  private busy = false;
  /** JMQT 5: stored QoS 1 messages go first after connAck; live QoS 1 pushes wait until then. */
  private replay: { ids: Set<string>; held: Array<[OutFrame, string]> } | null = null;

  constructor(
    private readonly host: SessionHost,
    private readonly wire: Wire,
    readonly protocol: TransportName,
    readonly remoteHost: string,
  ) {}

  /** One inbound packet's text; handled strictly in arrival order. */
  receive(text: string): void {
    this.lastSeen = Date.now();
    if (this.state === 'closed') return;
    if (this.busy) {
      this.backlog.push(text);
      if (this.backlog.length === BACKLOG_PAUSE) this.wire.pause();
      return;
    }
    this.run(text);
  }

  private run(text: string): void {
    let pending: void | Promise<void>;
    try {
      pending = this.host.handleText(this, text);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (pending) {
      this.busy = true;
      pending.then(() => this.next(), (error) => { this.fail(error); this.next(); });
    }
  }

  private next(): void {
    this.busy = false;
    while (!this.busy && this.backlog.length > 0 && this.state !== 'closed') {
      if (this.backlog.length === BACKLOG_PAUSE) this.wire.resume();
      this.run(this.backlog.shift()!);
    }
  }

  private fail(error: unknown): void {
    // Handlers answer their own errors; reaching here is a bug, never the client's doing.
    this.close(`internal error: ${(error as Error)?.stack ?? error}`);
  }

  send(packet: ServerPacket): void {
    this.write(OutFrame.of(packet), packet.type);
  }

  /** Every packet leaves through here; `type` defaults to the one written most, push. */
  write(frame: OutFrame, type = 'push'): void {
    if (this.state === 'closed') return;
    this.host.countPacketOut(type);
    this.wire.write(frame);
  }

  /** QoS 0 push: dropped (and counted) when the client is not reading fast enough. */
  pushQos0(frame: OutFrame): void {
    if (this.state !== 'session') return;
    if (this.wire.bufferedBytes > this.host.outboundLimit) {
      this.host.countDroppedPush();
      return;
    }
    this.host.countOut(1);
    this.write(frame);
  }

  /**
   * QoS 1 push. Over twice the outbound cap it is deferred, not written: the
   * stored copy stays until acknowledged and goes out again next session, so
   * memory stays bounded and nothing is lost.
   */
  pushQos1(frame: OutFrame, id: string): void {
    if (this.state !== 'session') return;
    if (this.replay) {
      this.replay.held.push([frame, id]);
      return;
    }
    if (this.wire.bufferedBytes > 2 * this.host.outboundLimit) {
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
    this.replay = { ids: new Set(), held: [] };
  }

  /** Pushes one stored copy during replay. */
  replayPush(frame: OutFrame, id: string): void {
    this.replay?.ids.add(id);
    this.host.countOut(1);
    this.write(frame);
  }

  /** Ends replay: live pushes held meanwhile follow, minus those the replay already carried. */
  finishReplay(): void {
    const replay = this.replay;
    this.replay = null;
    if (!replay) return;
    for (const [frame, id] of replay.held) if (!replay.ids.has(id)) this.pushQos1(frame, id);
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
  }

  describe(): string {
    return `client '${this.clientId || '-'}' from ${this.remoteHost} over ${this.protocol}`;
  }
}
