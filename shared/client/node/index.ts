/** Node-only transports of the SDK. The browser core (`shared/client`) never imports this folder. */
export { NodeSocketTransport, type NodeSocketTransportOptions } from './socket-transport';
export { NodeWsTransport } from './ws-transport';
