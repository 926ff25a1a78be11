/**
 * Per-client publish budget (PUBLISH_RATE_MESSAGES, PUBLISH_RATE_BYTES), as
 * EMQX's `messages_rate` and `bytes_rate`: two token buckets that refill every
 * second up to one second's worth. A client that overspends is not refused:
 * the broker stops reading from it until the budget is back, so nothing it
 * sent is lost and a flood cannot outrun other clients.
 */
export class PublishRate {
  private messages: number;
  private bytes: number;
  private updated = Date.now();

  constructor(private readonly messagesPerSecond: number, private readonly bytesPerSecond: number) {
    this.messages = messagesPerSecond;
    this.bytes = bytesPerSecond;
  }

  /** Whether the rate is limited at all (0 for both keys: no limit). */
  static enabled(messagesPerSecond: number, bytesPerSecond: number): boolean {
    return messagesPerSecond > 0 || bytesPerSecond > 0;
  }

  /** Spends `messages` and `bytes`; answers how long the client must wait before more, ms (0: none). */
  spend(messages: number, bytes: number, now = Date.now()): number {
    this.refill(now);
    let waitMs = 0;
    if (this.messagesPerSecond > 0) {
      this.messages -= messages;
      if (this.messages < 0) waitMs = Math.max(waitMs, (-this.messages / this.messagesPerSecond) * 1000);
    }
    if (this.bytesPerSecond > 0) {
      this.bytes -= bytes;
      if (this.bytes < 0) waitMs = Math.max(waitMs, (-this.bytes / this.bytesPerSecond) * 1000);
    }
    return Math.ceil(waitMs);
  }

  private refill(now: number): void {
    const elapsed = (now - this.updated) / 1000;
    if (elapsed <= 0) return;
    this.updated = now;
    this.messages = Math.min(this.messagesPerSecond, this.messages + elapsed * this.messagesPerSecond);
    this.bytes = Math.min(this.bytesPerSecond, this.bytes + elapsed * this.bytesPerSecond);
  }
}
