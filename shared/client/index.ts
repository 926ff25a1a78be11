/**
 * The JMQT TypeScript SDK, browser-safe core: no Node-only import here or
 * below, except in `./node/` (Node transports), which this file never loads.
 *
 *     const client = new JmqtClient(new BrowserWebSocketTransport('ws://localhost:8011/'), { reconnect: true });
 *     client.on('push', ({ channel, sender, data }) => show(channel, sender, data));
 *     const auth = await client.auth({ client_name: 'webclient' });   // opens the transport
 *     if (auth.status === Status.OK) await client.conn(auth.clientId!, auth.token!);
 *     await client.sub('mychannel', true);
 *     await client.pub('mychannel', 'hello', { qos: 1, retain: true }); // resolves with the pubAck
 *     client.on('pubAck', ({ id, status }) => refused(id, status));       // refusals of QoS 0 pubs given an id
 *     await client.pub('mychannel', 'hi', { id: 'my-1' });                // QoS 0: resolves once written
 *
 * In Node, use `NodeSocketTransport` (tcp/tls) or `NodeWsTransport` from `./node/`.
 */
export { JmqtClient } from './jmqt-client';
export { JmqtError, type JmqtErrorCode } from './errors';
export { Emitter, type Listener } from './emitter';
export { TransportBase, stripTrailingNul, type Transport, type TransportEvents, type ConnectionSink } from './transport';
export { BrowserWebSocketTransport, type BrowserWebSocketTransportOptions } from './browser-websocket-transport';
export { backoffDelay, type BackoffOptions } from './backoff';
export { heartbeatTiming, type HeartbeatTiming } from './heartbeat';
export { createIdGenerator } from './ids';
export type * from './types';
export { Status, statusName, type StatusCode } from '../status';
export type { Json } from '../packets';
