/**
 * Routing behind one interface (ARCHITECTURE rule 14): where a publish goes
 * and which node holds which client id. A single node and a cluster are two
 * implementations (as socket.io's in-memory Adapter and its ClusterAdapter),
 * so the broker never asks whether it is in a cluster.
 */
import type { Connection } from '../connection';
import type { OutFrame } from '../outbound';
import type { Storage } from '../storage/storage';

/** A publish as other nodes receive it: data as JSON text; `id` when QoS 1 (its copies are already stored). */
export interface RoutedPublish {
  channel: string;
  data: string;
  sender: string;
  id?: string;
}

export interface Router {
  readonly nodeId: string;
  /** Whether a publish can reach every node it must (false while a cluster's bus is down). */
  readonly ready: boolean;
  /** For /api/health: `single node`, or the cluster bus's `ok` or `down`. */
  readonly busState: 'single node' | 'ok' | 'down';
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Before the first session: removes the temporary subscriptions no live
   * session can own (protocol 5.9). Answers how many went.
   */
  removeOrphanedTemporary(storage: Storage): Promise<number>;
  /** Makes this node the one owner of the connection's client id (protocol 5.3); throws when another node won a race. */
  claim(connection: Connection): Promise<void>;
  /** The connection's session ended (not taken over). */
  released(connection: Connection): void;
  subscribed(clientId: string, channel: string, persistent: boolean): void;
  unsubscribed(clientId: string, channels: string[]): void;
  /** Has a session on this node or, in a cluster, on any node. */
  isOnline(clientId: string): boolean;
  /**
   * Pushes `frame` to every recipient with a session on this node (QoS 1 when
   * `publish.id` is set) and, in a cluster, hands `publish` once to each
   * other node that holds some of the rest. Never to the sender (protocol
   * 7.10). Answers how many sessions and nodes it reached.
   */
  route(recipients: Iterable<string>, frame: OutFrame, publish: RoutedPublish): number;
}
