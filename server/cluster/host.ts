/**
 * What the cluster router needs of its node (ARCHITECTURE rule 13): the
 * sessions it holds, the subscription index other nodes keep current, and a
 * way to catch up after the bus was down. The broker implements it.
 */
import type { Connection } from '../connection';
import type { Logger } from '../log';
import type { SubscriptionIndex } from '../subscription-index';

export interface ClusterHost {
  readonly log: Logger;
  /** client id → its one live session on this node. */
  readonly sessions: ReadonlyMap<string, Connection>;
  /** Every node keeps every subscription (protocol 10.2); other nodes' changes land here. */
  readonly index: SubscriptionIndex;
  /**
   * The bus came back from an outage: reload subscriptions from storage and
   * push again what is stored for this node's sessions (a forward may have
   * been lost with the bus).
   */
  resynchronise(): Promise<void>;
}
