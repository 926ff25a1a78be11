/**
 * Shapes of the broker's REST API under `/api` (server/http/api.ts): only
 * the fields the broker panel reads; the broker may send more.
 */
import type { Json } from '../../../../shared/client';

export type TransportName = 'SOCKET' | 'SSL_SOCKET' | 'WEB_SOCKET' | 'SSL_WEB_SOCKET';

export interface BrokerStats {
  uptimeSeconds: number;
  connections: { total: number; sessions: number; byTransport: Partial<Record<TransportName, number>> };
  subscriptions: number;
  channels: number;
  retained: number;
  queuedQos1: number;
  messages: { in: number; out: number };
  memory?: { rssBytes: number };
}

export interface BrokerClient {
  clientId: string;
  transport: TransportName;
  remoteHost: string;
  lastSeenMs: number;
  queuedQos1: number;
  subscriptions: Record<string, 'persistent' | 'temp'>;
}

export interface BrokerClients {
  clients: BrokerClient[];
  offlineQueues: Array<{ clientId: string; queuedQos1: number }>;
}

export interface RetainedMessage {
  channel: string;
  sender: string;
  data: Json;
}

export interface BrokerRetained {
  retained: RetainedMessage[];
}
