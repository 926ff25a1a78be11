/** The operator's JSON API under `/api`. */
import { Router } from 'express';
import type { Broker } from '../broker';

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

  router.get('/clients', async (_request, response, next) => {
    try {
      const queued = await broker.storage.queuedCounts();
      const clients = [...broker.sessions.values()].map((session) => ({
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
      }));
      const offlineQueues = [...queued].filter(([clientId]) => !broker.sessions.has(clientId)).map(([clientId, count]) => ({ clientId, queuedQos1: count }));
      response.json({ clients, offlineQueues });
    } catch (error) {
      next(error);
    }
  });

  router.get('/retained', async (_request, response, next) => {
    try {
      const retained = await broker.storage.allRetained();
      response.json({ retained: retained.map(({ channel, data, sender }) => ({ channel, sender, data: JSON.parse(data) })) });
    } catch (error) {
      next(error);
    }
  });

  return router;
}
