/**
 * In-memory mirror of every subscription, for O(1) routing per channel.
 * Storage stays the truth; the broker updates both together.
 */
import type { SubscriptionRecord } from './storage/storage';

export class SubscriptionIndex {
  /** channel → client id → persistent */
  private readonly byChannel = new Map<string, Map<string, boolean>>();
  /** client id → channel → persistent */
  private readonly byClient = new Map<string, Map<string, boolean>>();
  private total = 0;

  get size(): number {
    return this.total;
  }

  get channelCount(): number {
    return this.byChannel.size;
  }

  clear(): void {
    this.byChannel.clear();
    this.byClient.clear();
    this.total = 0;
  }

  add({ clientId, channel, persistent }: SubscriptionRecord): void {
    let clients = this.byChannel.get(channel);
    if (!clients) this.byChannel.set(channel, (clients = new Map()));
    if (!clients.has(clientId)) this.total++;
    clients.set(clientId, persistent);
    let channels = this.byClient.get(clientId);
    if (!channels) this.byClient.set(clientId, (channels = new Map()));
    channels.set(channel, persistent);
  }

  remove(clientId: string, channel: string): boolean {
    const clients = this.byChannel.get(channel);
    if (!clients?.delete(clientId)) return false;
    this.total--;
    if (clients.size === 0) this.byChannel.delete(channel);
    const channels = this.byClient.get(clientId);
    channels?.delete(channel);
    if (channels?.size === 0) this.byClient.delete(clientId);
    return true;
  }

  /** Subscribers of a channel: client id → persistent. Do not modify. */
  subscribers(channel: string): ReadonlyMap<string, boolean> | undefined {
    return this.byChannel.get(channel);
  }

  /** A client's subscriptions: channel → persistent. Do not modify. */
  channelsOf(clientId: string): ReadonlyMap<string, boolean> | undefined {
    return this.byClient.get(clientId);
  }

  has(clientId: string, channel: string): boolean {
    return this.byChannel.get(channel)?.has(clientId) ?? false;
  }
}
