/**
 * The admin API's operator endpoints under `/api` (behind the same guard as
 * the rest): one client, kick, forced subscriptions, its queue, retained
 * messages, publishing as the server, the trace of a message, recent events.
 * Path parameters are length-checked, lists capped, JSON bodies limited in
 * size and checked field by field (validate.ts).
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { channelKind } from '../../shared/channel';
import { KICKED_CLOSE_CODE, KICKED_REASON } from '../../shared/keys';
import { statusName } from '../../shared/status';
import { MAX_PAGE } from '../admin/admin-views';
import type { Broker } from '../broker';
import { peerAddress } from '../transports/listener';
import {
  BadRequest, booleanField, channelField, channelParam, clientIdParam, dataField, handle, idParam, jsonBody, qosField, queryInt, queryText,
} from './validate';

/** Bytes of a JSON body beyond MAX_PACKET_BYTES (room for the fields around `data`). */
const BODY_SLACK = 4096;

export function adminApiRouter(broker: Broker): Router {
  const router = Router();
  const { config, admin } = broker;
  const json = express.json({ limit: config.MAX_PACKET_BYTES + BODY_SLACK });
  const smallJson = express.json({ limit: BODY_SLACK });
  /** The caller's address (from the PROXY header behind a load balancer), for the audit line. */
  const by = (request: Request) => peerAddress(request.socket);
  const clientIdOf = (request: Request) => clientIdParam(request.params['clientId'], config.MAX_CLIENT_ID_LENGTH);
  const channelOf = (request: Request) => channelParam(request.params['channel'], config.MAX_CHANNEL_LENGTH);

  router.get('/clients/:clientId', handle(async (request, response) => {
    const clientId = clientIdOf(request);
    const view = await admin.views.client(clientId);
    if (!view) throw new BadRequest(`client ${JSON.stringify(clientId)} is not known: no session, subscription, queued copy or counter on any node`, 404);
    response.json(view);
  }));

  router.delete('/clients/:clientId/session', handle(async (request, response) => {
    const clientId = clientIdOf(request);
    let node: string | null;
    try {
      node = await admin.kick(clientId, by(request));
    } catch (error) {
      throw new BadRequest((error as Error).message, 504);
    }
    if (node === null) throw new BadRequest(`client ${JSON.stringify(clientId)} has no session on any node`, 404);
    response.json({ clientId, kicked: true, node, reason: KICKED_REASON, closeCode: KICKED_CLOSE_CODE });
  }));

  router.put('/clients/:clientId/subscriptions/*channel', smallJson, handle(async (request, response) => {
    const clientId = clientIdOf(request);
    const channel = channelOf(request);
    if (channelKind(channel) === 'control') throw new BadRequest('channel: control channels ($…) are requests to the server and cannot be subscribed to');
    const persistent = booleanField(jsonBody(request, ['persistent']), 'persistent');
    const created = await admin.subscribe(clientId, channel, persistent, by(request));
    response.status(created ? 201 : 200).json({ clientId, channel, persistent, created });
  }));

  router.delete('/clients/:clientId/subscriptions/*channel', handle(async (request, response) => {
    const clientId = clientIdOf(request);
    const channel = channelOf(request);
    if (!(await admin.unsubscribe(clientId, channel, by(request)))) {
      throw new BadRequest(`client ${JSON.stringify(clientId)} is not subscribed to ${JSON.stringify(channel)}`, 404);
    }
    response.json({ clientId, channel, removed: true });
  }));

  router.get('/clients/:clientId/queue', handle(async (request, response) => {
    const clientId = clientIdOf(request);
    const limit = queryInt(request, 'limit', { min: 1, cap: MAX_PAGE, fallback: 100 });
    response.json(await admin.views.queue(clientId, limit));
  }));

  router.delete('/clients/:clientId/queue', handle(async (request, response) => {
    const clientId = clientIdOf(request);
    response.json({ clientId, removed: await admin.purge(clientId, by(request)) });
  }));

  router.delete('/retained/*channel', handle(async (request, response) => {
    const channel = channelOf(request);
    if (!(await admin.clearRetained(channel, by(request)))) throw new BadRequest(`channel ${JSON.stringify(channel)} has no retained message`, 404);
    response.json({ channel, removed: true });
  }));

  router.post('/publish', json, handle(async (request, response) => {
    const body = jsonBody(request, ['channel', 'data', 'qos', 'retain']);
    const channel = channelField(body, 'channel', config.MAX_CHANNEL_LENGTH);
    if (channelKind(channel) === 'control') throw new BadRequest('channel: control channels ($…) are requests to the server and cannot be published to');
    const data = dataField(body, 'data');
    const qos = qosField(body, 'qos');
    const retain = booleanField(body, 'retain', false);
    if (retain && channelKind(channel) === 'p2p') throw new BadRequest('retain: P2P (#) channels keep no retained message');
    const { status, id } = await admin.publish({ channel, data, qos, retain }, by(request));
    response.json({ status, statusName: statusName(status), id, channel, qos, retained: retain });
  }));

  router.get('/trace/:messageId', handle(async (request, response) => {
    const key = idParam(request.params['messageId'], config.MAX_CLIENT_ID_LENGTH + 1 + config.MAX_ID_LENGTH);
    const trace = await admin.views.trace(key);
    if (!trace) {
      throw new BadRequest(broker.monitor.tracing
        ? `no node traced message ${JSON.stringify(key)}: not seen, or older than TRACE_SECONDS (${config.TRACE_SECONDS} s) or pushed out by newer ones (TRACE_MAX_MESSAGES)`
        : 'tracing is off (TRACE_MAX_MESSAGES = 0)', 404);
    }
    response.json(trace);
  }));

  router.get('/events', handle(async (request, response) => {
    const clientId = queryText(request, 'clientId', config.MAX_CLIENT_ID_LENGTH);
    const limit = queryInt(request, 'limit', { min: 1, cap: MAX_PAGE, fallback: 100 });
    response.json(await admin.views.events(clientId || undefined, limit));
  }));

  // A body that is not JSON, too large or in an unknown encoding: the body parser's verdict, as the API answers.
  router.use((error: Error & { type?: string; status?: number; limit?: number }, _request: Request, response: Response, next: NextFunction) => {
    if (error.type === 'entity.parse.failed') response.status(400).json({ error: 'body: not valid JSON' });
    else if (error.type === 'entity.too.large') response.status(413).json({ error: `body: larger than ${error.limit} bytes` });
    else if (error.status !== undefined && error.status >= 400 && error.status < 500) response.status(error.status).json({ error: `body: ${error.message}` });
    else next(error);
  });
  return router;
}
