/**
 * What the admin API's views and actions need of the broker (ARCHITECTURE
 * rule 13), owned here; the broker implements it, and nothing in admin/
 * sees more of it.
 */
import type { Config } from '../config';
import type { Connection } from '../connection';
import type { Peers } from '../cluster/peers';
import type { Logger } from '../log';
import type { Publication } from '../publish/publication';
import type { QueueDepths } from '../queue-depths';
import type { Router } from '../routing/router';
import type { BrokerCounters } from '../stats';
import type { Storage } from '../storage/storage';
import type { SubscriptionIndex } from '../subscription-index';
import type { Monitor } from './monitor';

export interface AdminParts {
  readonly config: Readonly<Pick<Config, 'MAX_CLIENT_ID_LENGTH' | 'MAX_CHANNEL_LENGTH' | 'MAX_ID_LENGTH' | 'MAX_PACKET_BYTES'>>;
  readonly log: Logger;
  readonly counters: BrokerCounters;
  readonly monitor: Monitor;
  /** client id → its live session on this node. */
  readonly sessions: ReadonlyMap<string, Connection>;
  readonly index: Pick<SubscriptionIndex, 'channelsOf'>;
  readonly storage: Pick<Storage, 'queuedCounts' | 'queuedPage' | 'queuedCount' | 'dropOldest' | 'retainedFor' | 'clearRetained' | 'allRetained'>;
  readonly queueDepths: Pick<QueueDepths, 'reload' | 'evictedOf'>;
  readonly router: Pick<Router, 'nodeId' | 'isOnline' | 'ready'>;
  /** The other nodes of a cluster (none on a single node). */
  readonly peers: Peers;
  readonly publisher: { publish(publication: Publication): number | Promise<number>; newMessageId(): string };
  subscribe(clientId: string, channel: string, persistent: boolean): Promise<void>;
  /** Answers whether the subscription existed. */
  unsubscribe(clientId: string, channel: string): Promise<boolean>;
  /** Ends the session of `clientId` on this node with close code 4001; answers whether there was one. */
  kickLocal(clientId: string, by: string): boolean;
}
