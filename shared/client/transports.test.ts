/** The transports on real sockets: WebSocket framing (ws server), and the Transport event contract. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { WebSocket as WsWebSocket, WebSocketServer } from 'ws';
import { BrowserWebSocketTransport } from './browser-websocket-transport';
import { JmqtClient } from './jmqt-client';
import { NodeSocketTransport } from './node/socket-transport';
import { NodeWsTransport } from './node/ws-transport';
import type { Transport } from './transport';

/** Records a transport's events as strings, e.g. `open`, `message:x`, `close:reason`. */
function record(transport: Transport): string[] {
  const events: string[] = [];
  transport.on('open', () => events.push('open'));
  transport.on('message', (text) => events.push(`message:${text}`));
  transport.on('close', (reason) => events.push(`close:${reason}`));
  return events;
}

/** The TCP socket under a NodeSocketTransport (private), to await its own events. */
const socketOf = (transport: NodeSocketTransport) => (transport as unknown as { socket: net.Socket }).socket;

/** Resolves once `socket` emitted 'close', the last event a socket emits: nothing of that connection can follow. */
const socketClosed = (socket: net.Socket): Promise<unknown> => (socket.closed ? Promise.resolve() : once(socket, 'close'));

const waitFor = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(check(), `timed out waiting for ${what}`);
};

async function wsServer() {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  const received: string[] = [];
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const text = data.toString();
      received.push(text);
      // A scripted answer per request, plus one message with a trailing NUL (protocol 1.3: tolerated, stripped).
      if (text.startsWith('{"auth"')) socket.send('{"authAck":{"st":1,"at":"t","cl":"w"}}\0');
      if (text === 'ping') socket.send('pong\0', () => socket.send('plain'));
    });
  });
  return { server, url, received };
}

const transports = {
  NodeWsTransport: (url: string) => new NodeWsTransport(url),
  BrowserWebSocketTransport: (url: string) =>
    new BrowserWebSocketTransport(url, { WebSocket: WsWebSocket as unknown as typeof WebSocket }),
};

for (const [name, make] of Object.entries(transports)) {
  test(`${name}: one packet per message, no NUL sent, a trailing NUL stripped`, async () => {
    const { server, url, received } = await wsServer();
    const transport = make(url);
    const events = record(transport);
    transport.connect();
    await waitFor(() => events.includes('open'), 'open');
    await transport.send('ping');
    await waitFor(() => events.length === 3, 'two messages');
    assert.deepEqual(events, ['open', 'message:pong', 'message:plain']);
    assert.deepEqual(received, ['ping']);
    transport.close();
    assert.deepEqual(events.at(-1), 'close:closed by client');
    server.close();
  });

  test(`${name}: carries a JmqtClient request and its answer`, async () => {
    const { server, url, received } = await wsServer();
    const client = new JmqtClient(make(url));
    assert.deepEqual(await client.auth({ client_name: 'w' }), { status: 1, token: 't', clientId: 'w', message: undefined });
    assert.deepEqual(received, ['{"auth":{"dt":{"client_name":"w"}}}']);
    await client.disconnect();
    server.close();
  });
}

test('a connection that cannot be made reports only close, once', async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  probe.close();
  const transport = new NodeSocketTransport({ host: '127.0.0.1', port });
  const events = record(transport);
  transport.connect();
  const socket = socketOf(transport);
  await waitFor(() => events.length > 0, 'close');
  await socketClosed(socket);
  assert.equal(events.length, 1);
  assert.match(events[0], /^close:.*ECONNREFUSED/);
  await assert.rejects(transport.send('x'));
});

test('close() reports synchronously; the old socket stays silent after a reconnect on the same transport', async () => {
  const server = net.createServer((socket) => socket.write('hello\0'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const transport = new NodeSocketTransport({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  const events = record(transport);
  transport.connect();
  await waitFor(() => events.length === 2, 'open and hello');
  const old = socketOf(transport);
  transport.close('bye');
  assert.deepEqual(events, ['open', 'message:hello', 'close:bye']);
  transport.connect();
  await waitFor(() => events.length === 5, 'second open and hello');
  await socketClosed(old);
  assert.deepEqual(events.slice(3), ['open', 'message:hello']);
  transport.close();
  server.close();
});
