/**
 * What the cluster router needs of its node (ARCHITECTURE rule 13): the
 * sessions it holds, the subscription index other nodes keep current, a
 * way to catch up after the bus was down, and the admin API's answers to
 * the other nodes. The broker implements it.
 */
import type { Connection } from '../connection';
import type { BrokerEvent } from '../events/event-log';
import type { Logger } from '../log';
import type { SubscriptionIndex } from '../subscription-index';
import type { PeerQuery, Peers } from './peers';

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
  /** The router offers the other nodes to the admin API. */
  usePeers(peers: Peers): void;
  /** Another node's admin API asks what this node knows; the answer must be JSON. */
  answerPeer(query: PeerQuery): Promise<unknown>;
  /** Another node's operator ends a session held here; answers whether there was one. */
  kickLocal(clientId: string, by: string): boolean;
  /** An event of another node, for this node's live watchers. */
  relayEvent(event: BrokerEvent): void;
}
