/**
 * Protocol 5.8: the server ends a session when nothing arrives for `ts`
 * seconds, so the client sends `hb` about every `ts - 2` seconds; and a
 * server that stops answering is noticed here instead of waiting for TCP.
 */
import { DEFAULT_TIMEOUT_SECONDS } from '../keys';

export interface HeartbeatTiming {
  /** Time between two `hb` packets, in ms. */
  intervalMs: number;
  /** How long an `hb` may stay without any inbound packet before the link counts as dead, in ms. */
  timeoutMs: number;
}

/** Heartbeat timing for a connAck's `ts` (seconds): `hb` every max(1, ts - 2) s, dead after ts s of silence. */
export function heartbeatTiming(ts: number | undefined): HeartbeatTiming {
  const seconds = ts !== undefined && ts > 0 ? ts : DEFAULT_TIMEOUT_SECONDS;
  return { intervalMs: Math.max(1, seconds - 2) * 1000, timeoutMs: seconds * 1000 };
}

export class Heartbeat {
  private ticker: ReturnType<typeof setInterval> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param sendHb writes one `{"hb":{}}`.
   * @param expire called once when an `hb` got no inbound packet in time.
   */
  constructor(
    private readonly sendHb: () => void,
    private readonly expire: () => void,
  ) {}

  start(timing: HeartbeatTiming): void {
    this.stop();
    this.ticker = setInterval(() => {
      this.sendHb();
      // Measured from the first unanswered hb: later hbs do not push the deadline back.
      this.watchdog ??= setTimeout(() => {
        this.stop();
        this.expire();
      }, timing.timeoutMs);
    }, timing.intervalMs);
  }

  /** Any inbound packet (hbAck or other) proves the server is there. */
  alive(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  stop(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.alive();
  }
}
