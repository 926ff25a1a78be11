/**
 * An HTTP request listener loaded at the first request: the Express app (the
 * REST API, /metrics, the dashboard) and everything under it are required
 * only when someone asks over HTTP, so an idle broker does not carry them
 * (about 6 MB of RSS). WebSocket upgrades do not go through it.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from './log';

export function lazyRequestListener(load: () => Promise<RequestListener>, log: Logger): RequestListener {
  let listener: RequestListener | null = null;
  let loading: Promise<RequestListener> | null = null;
  return (request: IncomingMessage, response: ServerResponse) => {
    if (listener) return listener(request, response);
    loading ??= load().then((loaded) => (listener = loaded), (error: Error) => {
      // Tried again at the next request.
      loading = null;
      throw error;
    });
    loading.then((loaded) => loaded(request, response), (error: Error) => {
      log.error(`HTTP: cannot load the request handler: ${error.stack ?? error.message}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
      response.end('{"error":"internal error; see the broker log"}');
    });
  };
}
