/**
 * The cluster bus only moves messages between nodes (ARCHITECTURE rule 8);
 * what they mean is decided once, in cluster.ts. Routing is by node: a
 * publish goes once to each node that holds a subscriber, so bus traffic
 * grows with nodes, not with clients (unlike the original's channel per client).
 */
import type { BrokerEvent } from '../events/event-log';
import type { PeerQuery } from './peers';

export type BusMessage =
  /** Deliver to this node's local subscribers of `cn` (data as JSON text). */
  | { t: 'pub'; cn: string; dt: string; cl: string; id?: string }
  | { t: 'sub'; cl: string; cn: string; pr: boolean }
  | { t: 'unsub'; cl: string; cns: string[] }
  /** A session of `cl` started on `node` with ownership fence `fence`: any older one elsewhere ends. */
  | { t: 'session'; cl: string; node: string; fence: number }
  | { t: 'ended'; cl: string; node: string; fence: number }
  /** A node started and asks the others for their sessions. */
  | { t: 'hello'; node: string }
  /** Sent every lease / 3: a node not heard from for a lease is gone, and so are its sessions. */
  | { t: 'alive'; node: string }
  | { t: 'sessions'; node: string; list: Array<[string, number]> }
  /** The admin API: an operator ends the session of `cl` held by the receiving node; answered with `answer`. */
  | { t: 'kick'; rid: string; cl: string; by: string }
  /** The admin API asks every node what it knows (peers.ts); each answers with `answer`. */
  | { t: 'ask'; rid: string; q: PeerQuery }
  | { t: 'answer'; rid: string; a: unknown }
  /** The sender has live event watchers until `until` (ms since epoch; 0: no more): forward your events to it. */
  | { t: 'watch'; until: number }
  | { t: 'event'; e: BrokerEvent };

export type BusHandler = (message: BusMessage, from: string) => void;

export interface ClusterBus {
  readonly nodeId: string;
  /** False while the bus cannot move messages (Redis down). */
  readonly healthy: boolean;
  start(handler: BusHandler): Promise<void>;
  /** To every other node. */
  broadcast(message: BusMessage): void;
  /** To one node. */
  send(nodeId: string, message: BusMessage): void;
  /** Called after the bus comes back from an outage, so nodes can resynchronise. */
  onRecovered(listener: () => void): void;
  stop(): Promise<void>;
}
