/**
 * The writes of Storage as values: what SqliteStorage and MysqlStorage put in
 * their TickBatch (tick-batch.ts) and apply in one transaction per tick, and
 * what each kind answers.
 */
import type { ExpiredClient, QueuedMessage, RetainedMessage, SubscriptionRecord } from './storage';

export type WriteOp =
  /** `at`: the last-seen time the client gets when it has none yet. */
  | { kind: 'subscribe'; record: SubscriptionRecord; at: number }
  | { kind: 'unsubscribe'; clientId: string; channel: string }
  | { kind: 'removeTemporary'; clientId: string }
  | { kind: 'removeAllTemporary' }
  | { kind: 'enqueue'; messages: QueuedMessage[] }
  | { kind: 'acknowledge'; clientId: string; id: string }
  | { kind: 'dropOldest'; clientId: string; count: number }
  | { kind: 'retain'; message: RetainedMessage }
  | { kind: 'clearRetained'; channel: string }
  | { kind: 'touchClients'; clientIds: string[]; at: number }
  | { kind: 'expireClients'; before: number; limit: number };

export type WriteKind = WriteOp['kind'];
export type OpOf<K extends WriteKind> = Extract<WriteOp, { kind: K }>;

/** What the Storage call behind each kind answers. */
export interface WriteResults {
  subscribe: void;
  unsubscribe: boolean;
  removeTemporary: string[];
  removeAllTemporary: number;
  enqueue: void;
  acknowledge: boolean;
  dropOldest: number;
  retain: void;
  clearRetained: void;
  touchClients: void;
  expireClients: ExpiredClient[];
}
