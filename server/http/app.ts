/** The Express app on the WebSocket ports: REST API under `/api`, the built dashboard at `/`. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Broker } from '../broker';
import type { DrainControl } from '../drain';
import { peerAddress } from '../transports/listener';
import { adminApiRouter } from './admin-api';
import { apiRouter } from './api';
import { adminAuth } from './admin-auth';

/** `drain`: POST /api/drain and the health answer while draining (server/drain.ts). */
export function createHttpApp(broker: Broker, drain?: DrainControl): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const admin = adminAuth(broker.config.ADMIN_TOKEN);
  // Load balancers probe health without credentials.
  // Anyone may ask, so it says only what a load balancer and an operator need: the
  // node id (random unless NODE_ID names it), no host name, process id or error text (those go to the log).
  app.get('/api/health', async (_request, response) => {
    const storage = await broker.storage.ping().then(() => 'ok', (error: Error) => {
      broker.log.warn(`health check: storage is down: ${error.message}`);
      return 'down';
    });
    const bus = broker.router.busState;
    const healthy = storage === 'ok' && bus !== 'down' && !drain?.draining;
    // A draining node answers 503 so that the load balancer sends new clients elsewhere.
    const status = drain?.draining ? 'draining' : healthy ? 'ok' : 'degraded';
    response.status(healthy ? 200 : 503).json({ status, node: broker.router.nodeId, storage, bus, uptimeSeconds: Math.round((Date.now() - broker.startedAt) / 1000) });
  });
  app.get('/metrics', admin, async (_request, response, next) => {
    try {
      response.type(broker.metrics.registry.contentType).send(await broker.metrics.registry.metrics());
    } catch (error) {
      next(error);
    }
  });
  // Graceful drain: 202 with the plan; a second call answers the drain under way.
  if (drain) {
    app.post('/api/drain', admin, (request, response) => {
      response.status(202).json(drain.start(`POST /api/drain from ${peerAddress(request.socket)}`));
    });
    app.get('/api/drain', admin, (_request, response) => {
      response.json(drain.plan() ?? { state: 'idle', node: broker.router.nodeId });
    });
  }
  app.use('/api', admin, apiRouter(broker), adminApiRouter(broker));
  app.use('/api', (_request, response) => {
    response.status(404).json({ error: 'no such API endpoint' });
  });

  const dashboard = resolve(broker.config.DASHBOARD_PATH);
  if (existsSync(resolve(dashboard, 'index.html'))) {
    app.use(express.static(dashboard));
    // The dashboard routes in the browser: unknown paths get its page.
    app.get(/.*/, (_request, response) => response.sendFile(resolve(dashboard, 'index.html')));
  } else {
    broker.log.warn(`no dashboard at ${dashboard}; build it with npm run build:client`);
    app.get('/', (_request, response) => {
      response.type('text/plain').send('JMQT broker is running. The dashboard is not built: run `npm run build:client`.\n');
    });
  }

  app.use((error: Error, _request: Request, response: Response, _next: NextFunction) => {
    broker.log.error(`HTTP API: ${error.stack ?? error.message}`);
    response.status(500).json({ error: 'internal error; see the broker log' });
  });
  return app;
}
