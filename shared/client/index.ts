/**
 * The JMQT TypeScript SDK, browser-safe core: no Node-only import here or
 * below, except in `./node/` (Node transports), which this file never loads.
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
