/** The server-side calls the original offered to applications (protocol 8.4). */
import type { Json } from '../shared/packets';

export interface ServerPublishOptions {
  /** Default 0. */
  qos?: 0 | 1;
  /** Default false. */
  retain?: boolean;
}

export interface ServerApi {
  /** A client's subscriptions: channel → persistent. */
  subscriptionsOf(clientId: string): Promise<Map<string, boolean>>;
  /** Subscribes any client to any channel, `$` excepted; online or not. */
  forceSubscribe(clientId: string, channel: string, persistent: boolean): Promise<void>;
  forceUnsubscribe(clientId: string, channel: string): Promise<boolean>;
  /** Publishes as the server: pushes carry `cl:""`. Resolves once stored (QoS 1) or routed. */
  forcePublish(channel: string, data: Json, options?: ServerPublishOptions): Promise<void>;
  isConnected(clientId: string): boolean;
  /**
   * Counts a limit the application enforces under `key` (`/api/stats` → `counters.limitHits`,
   * `/metrics`) and logs it at WRN, at most once a second per key (protocol 11.11).
   */
  limitHit(key: string, detail: string): void;
}
