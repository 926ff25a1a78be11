/** The operator's JSON API under `/api`: stats, sessions, retained messages; the rest of the admin API is in admin-api.ts. */
import { Router, type Request } from 'express';
import { MAX_PAGE } from '../admin/admin-views';
import type { Broker } from '../broker';
import { handle, queryInt, queryText } from './validate';

/** `limit` capped at MAX_PAGE; null for a request that pages neither (today's callers), which gets every one. */
function pageLimit(request: Request): number | null {
  if (request.query['limit'] === undefined && request.query['offset'] === undefined) return null;
  return queryInt(request, 'limit', { min: 1, cap: MAX_PAGE, fallback: MAX_PAGE });
}

export function apiRouter(broker: Broker): Router {
  const router = Router();

  router.get('/stats', async (_request, response, next) => {
    try {
      const stored = await broker.storage.stats();
      const connections = broker.connectionsByTransport();
      response.json({
        uptimeSeconds: Math.round((Date.now() - broker.startedAt) / 1000),
        connections: { total: broker.connections.size, sessions: broker.sessions.size, byTransport: connections },
        subscriptions: broker.index.size,
        channels: broker.index.channelCount,
        retained: stored.retained,
        queuedQos1: stored.queued,
        messages: { in: broker.counters.messagesIn, out: broker.counters.messagesOut },
        counters: broker.counters,
        memory: { rssBytes: process.memoryUsage().rss },
      });
    } catch (error) {
      next(error);
    }
  });

  // This node's sessions, by client id; `search` matches a part of the client id. Paged with `limit` (at most
  // MAX_PAGE) or `offset`; without either, every one, as before paging existed.
  router.get('/clients', handle(async (request, response) => {
    const search = queryText(request, 'search', broker.config.MAX_CLIENT_ID_LENGTH) ?? '';
    const offset = queryInt(request, 'offset', { min: 0, cap: Number.MAX_SAFE_INTEGER, fallback: 0 });
    const limit = pageLimit(request);
    const queued = await broker.storage.queuedCounts();
    const { page, total } = broker.admin.views.sessions(search, offset, limit);
    const clients = page.map((session) => ({
      clientId: session.clientId,
      transport: session.protocol,
      remoteHost: session.remoteHost,
      connectedAt: new Date(session.connectedAt).toISOString(),
      lastSeenMs: Date.now() - session.lastSeen,
      outboundBytes: session.bufferedBytes,
      queuedQos1: queued.get(session.clientId) ?? 0,
      evictedQos1: broker.queueDepths.evictedOf(session.clientId),
      subscriptions: Object.fromEntries(
        [...(broker.index.channelsOf(session.clientId) ?? [])].map(([channel, persistent]) => [channel, persistent ? 'persistent' : 'temp']),
      ),
      node: broker.router.nodeId,
    }));
    const offline = [...queued].filter(([clientId]) => !broker.sessions.has(clientId) && clientId.includes(search));
    const offlineQueues = (limit === null ? offline : offline.slice(0, limit)).map(([clientId, count]) => ({ clientId, queuedQos1: count }));
    response.json({ clients, total, offset, limit, offlineQueues, offlineTotal: offline.length });
  }));

  // Retained messages by channel; `prefix` keeps those whose channel starts with it. Paged like /clients.
  router.get('/retained', handle(async (request, response) => {
    const prefix = queryText(request, 'prefix', broker.config.MAX_CHANNEL_LENGTH) ?? '';
    const offset = queryInt(request, 'offset', { min: 0, cap: Number.MAX_SAFE_INTEGER, fallback: 0 });
    const limit = pageLimit(request);
    response.json(await broker.admin.views.retained(prefix, offset, limit));
  }));

  return router;
}
