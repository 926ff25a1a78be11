/**
 * The other nodes of a cluster as the admin API sees them: ask every node a
 * question and merge the answers (within a time bound), end a session held
 * elsewhere, and share events with the nodes whose dashboards watch them
 * live. A single node has no peers (SINGLE_NODE); the cluster router offers
 * itself through ClusterHost.usePeers.
 */
import type { BrokerEvent } from '../events/event-log';

/** What one node is asked about; each answer is that node's part only. */
export type PeerQuery =
  | { kind: 'client'; clientId: string }
  | { kind: 'trace'; id: string }
  | { kind: 'markers'; clientIds: string[]; since: number; channel: string }
  | { kind: 'events'; clientId?: string; limit: number };

export interface PeerAnswers {
  answers: Array<{ node: string; answer: unknown }>;
  /** Nodes believed alive that did not answer in time. */
  missing: string[];
}

export interface Peers {
  /** Whether there are other nodes at all. */
  readonly clustered: boolean;
  /** Asks every other node; resolves once all answered or PEER_TIMEOUT_MS passed. */
  ask(query: PeerQuery): Promise<PeerAnswers>;
  /** Ends the session of `clientId` on the node that holds it; answers that node, or null when no other node does. Rejects on timeout. */
  kick(clientId: string, by: string): Promise<string | null>;
  /** A local event, forwarded to the nodes whose live dashboards watch. */
  shareEvent(event: BrokerEvent): void;
  /** This node has live watchers (or has none any more): the others are asked to forward their events (or to stop). */
  watchEvents(watching: boolean): void;
}

/** How long a node waits for the others' answers, ms. */
export const PEER_TIMEOUT_MS = 2000;

export const SINGLE_NODE: Peers = {
  clustered: false,
  ask: async () => ({ answers: [], missing: [] }),
  kick: async () => null,
  shareEvent: () => undefined,
  watchEvents: () => undefined,
};
