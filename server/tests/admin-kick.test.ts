/**
 * DELETE /api/clients/:clientId/session: the session ends as any session
 * does (temporary subscriptions gone, the close notifier called), for the
 * reason "kicked by operator"; over WebSocket with close code 4001, after
 * which the SDK does not reconnect; 404 when the client has no session.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { WebSocket as WsWebSocket } from 'ws';
import { BrowserWebSocketTransport } from '../../shared/client/browser-websocket-transport';
import { JmqtClient } from '../../shared/client/jmqt-client';
import { NodeWsTransport } from '../../shared/client/node/ws-transport';
import type { DisconnectEvent } from '../../shared/client/types';
import { KICKED_CLOSE_CODE } from '../../shared/keys';
import { api, startLoggedBroker, type LoggedBroker } from '../testing/admin-client';
import { connectClient, RawClient, waitFor } from '../testing/harness';

describe('admin kick', () => {
  let broker: LoggedBroker;
  const kick = (clientId: string) => api(broker.ports.webSocket, 'DELETE', `/api/clients/${encodeURIComponent(clientId)}/session`);
  before(async () => { broker = await startLoggedBroker(); });
  after(async () => { await broker?.destroy(); });

  it('a WebSocket session is closed with 4001 "kicked by operator"; it ends like any session', async () => {
    const watcher = await connectClient(broker, 'kick-watcher');
    const ws = new WebSocket(`ws://127.0.0.1:${broker.ports.webSocket}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    const received: any[] = [];
    ws.on('message', (data) => received.push(JSON.parse(data.toString())));
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    const next = (type: string) => waitFor(() => received.some((packet) => type in packet), type).then(() => received.find((packet) => type in packet)[type]);
    ws.send(JSON.stringify({ auth: { dt: { client_name: 'kick-ws' } } }));
    const authAck = await next('authAck');
    ws.send(JSON.stringify({ conn: { cl: 'kick-ws', at: authAck.at } }));
    assert.equal((await next('connAck')).st, 1);
    ws.send(JSON.stringify({ sub: { cn: 'kick/temp', pr: 0 } }));
    await next('subAck');

    const answer = await kick('kick-ws');
    assert.deepEqual([answer.status, answer.body], [200, { clientId: 'kick-ws', kicked: true, node: broker.broker.router.nodeId, reason: 'kicked by operator', closeCode: 4001 }]);
    assert.deepEqual(await closed, [KICKED_CLOSE_CODE, 'kicked by operator']);
    // Like any session end: its temporary subscription goes, the sample application announces it offline.
    await watcher.seen('push', { cn: 'update', dt: { offline: 'kick-ws' } });
    await waitFor(() => !broker.broker.index.channelsOf('kick-ws')?.has('kick/temp'), 'the temporary subscription removed');
    assert.ok(broker.lines.some((line) => line.includes('session ended (kicked by operator): client "kick-ws"')));
    watcher.close();
  });

  it('a TCP session is closed (TCP has no close code); a client without a session is 404', async () => {
    const tcp = await connectClient(broker, 'kick-tcp');
    assert.equal((await kick('kick-tcp')).status, 200);
    await tcp.waitClosed();
    assert.equal(broker.broker.isConnected('kick-tcp'), false);
    const missing = await kick('kick-tcp');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /has no session on any node/);
    const fresh = await RawClient.open('tcp', broker.ports.socket);
    assert.equal((await kick('')).status, 404, 'no client id: no such route');
    fresh.close();
  });

  for (const kind of ['ws', 'browser-ws'] as const) {
    it(`${kind}: the SDK does not reconnect after a kick (4001), as after a takeover (4000)`, async () => {
      const url = `ws://127.0.0.1:${broker.ports.webSocket}/`;
      const transport = kind === 'ws' ? new NodeWsTransport(url) : new BrowserWebSocketTransport(url, { WebSocket: WsWebSocket as unknown as typeof globalThis.WebSocket });
      const client = new JmqtClient(transport, { reconnect: { initialDelayMs: 50 } });
      const clientId = `kick-sdk-${kind}`;
      try {
        const { token } = await client.auth({ client_name: clientId });
        await client.conn(clientId, token!);
        const dropped = new Promise<DisconnectEvent>((resolve) => client.once('disconnect', resolve));
        assert.equal((await kick(clientId)).status, 200);
        const event = await dropped;
        assert.equal(event.willReconnect, false);
        assert.match(event.reason, /^kicked by operator \(code 4001/);
        // Six times the 50 ms reconnect delay, and no new session.
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(client.state, 'closed');
        assert.equal(broker.broker.isConnected(clientId), false);
      } finally {
        await client.disconnect(false);
      }
    });
  }
});
