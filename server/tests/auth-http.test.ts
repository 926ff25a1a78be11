import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MAX_ANSWER_BYTES } from '../auth/http-service';
import { authenticate, signIn, startAuthBroker, wire, type AuthBroker } from '../testing/auth';
import { RawClient } from '../testing/harness';

/** A real authentication service on a free port, answering by what `authData.user` says. */
async function startService(): Promise<{ url: string; server: Server; requests: unknown[]; sockets: Set<Socket>; close(): Promise<void> }> {
  const requests: unknown[] = [];
  const sockets = new Set<Socket>();
  const held: ServerResponse[] = [];
  const answer = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = '';
    request.on('data', (chunk) => { text += chunk; });
    request.on('end', () => {
      const body = JSON.parse(text) as { authData: { user?: string; password?: string } };
      requests.push({ method: request.method, type: request.headers['content-type'], body });
      const { user, password } = body.authData ?? {};
      switch (user) {
        case 'alice': return password === 'pw' ? answer(response, 200, { clientId: 'alice' }) : answer(response, 200, { allow: false, message: 'wrong password for alice' });
        case 'reader': return answer(response, 200, { clientId: 'reader-1', read: ['news/*'], write: ['users/%c/*'] });
        case 'locked': return answer(response, 200, { allow: false, message: 'account locked' });
        case 'forbidden': return answer(response, 403, { message: 'not from here' });
        case 'teapot': return answer(response, 418, 'no message');
        case 'broken': return answer(response, 500, { message: 'stack trace' });
        case 'nobody': return answer(response, 200, { ok: true });
        case 'huge': return answer(response, 200, { clientId: 'x', padding: 'x'.repeat(MAX_ANSWER_BYTES) });
        case 'badpatterns': return answer(response, 200, { clientId: 'x', read: 'news/*' });
        case 'slow': held.push(response); return undefined; // never answered
        default: return answer(response, 401, {});
      }
    });
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jmqt/auth`, server, requests, sockets,
    close: () => new Promise((resolve) => {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function authAck(broker: AuthBroker, dt: unknown) {
  const { client, ack } = await authenticate(broker, dt);
  client.close();
  return ack;
}

describe('AUTH_MODE = http (protocol 13.5)', () => {
  it('a 200 with clientId lets the client in; a refusal passes its message with 7; connections are reused', async (t) => {
    const service = await startService();
    const broker = await startAuthBroker({ AUTH_MODE: 'http', AUTH_HTTP_URL: service.url });
    try {
      const { client, sent, ack } = await authenticate(broker, { user: 'alice', password: 'pw' });
      t.diagnostic(wire(sent, { authAck: ack }));
      assert.equal(ack['st'], 1);
      assert.equal(ack['cl'], 'alice');
      assert.deepEqual(service.requests[0], {
        method: 'POST', type: 'application/json',
        body: { authData: { user: 'alice', password: 'pw' }, remoteHost: '127.0.0.1', protocol: 'SOCKET' },
      });
      assert.deepEqual(await client.request({ conn: { at: ack['at'], cl: 'alice' } }, 'connAck'), { st: 1, ts: 15 });
      client.close();

      const { client: denied, sent: deniedSent, ack: deniedAck } = await authenticate(broker, { user: 'locked' });
      t.diagnostic(wire(deniedSent, { authAck: deniedAck }));
      denied.close();
      assert.deepEqual(deniedAck, { st: 7, mg: 'account locked' });
      assert.deepEqual(await authAck(broker, { user: 'alice', password: 'guess' }), { st: 7, mg: 'wrong password for alice' });
      assert.deepEqual(await authAck(broker, { user: 'forbidden' }), { st: 7, mg: 'not from here' });
      assert.deepEqual(await authAck(broker, { user: 'teapot' }), { st: 7, mg: 'refused by the authentication service (HTTP 418)' });
      assert.deepEqual(await authAck(broker, 'anything at all'), { st: 7, mg: 'refused by the authentication service (HTTP 401)' });
      // Answers that are no answer are the service's fault: 5.
      assert.deepEqual(await authAck(broker, { user: 'broken' }), { st: 5, mg: 'authentication service failed' });
      assert.deepEqual(await authAck(broker, { user: 'nobody' }), { st: 5, mg: 'authentication service failed' });
      assert.deepEqual(await authAck(broker, { user: 'badpatterns' }), { st: 5, mg: 'authentication service failed' });
      assert.deepEqual(await authAck(broker, { user: 'huge' }), { st: 5, mg: 'authentication service unreachable' });
      // Keep-alive: one connection carried the calls, but the one cut off for its oversized answer.
      assert.equal(service.requests.length, 10);
      assert.equal(service.sockets.size, 1, `${service.sockets.size} connections for ${service.requests.length} calls`);
      assert.ok(!broker.lines.some((line) => line.includes('"pw"') || line.includes('guess')), 'no auth data is logged');
    } finally {
      await broker.destroy();
      await service.close();
    }
  });

  it('read and write in the answer narrow the session', async () => {
    const service = await startService();
    const broker = await startAuthBroker({ AUTH_MODE: 'http', AUTH_HTTP_URL: service.url });
    try {
      const client = await signIn(broker, { user: 'reader' });
      assert.deepEqual(await client.request({ sub: { cn: 'news/a', pr: 0 } }, 'subAck'), { st: 1, cn: 'news/a' });
      assert.deepEqual(await client.request({ sub: { cn: 'other', pr: 0 } }, 'subAck'), { st: 7, cn: 'other' });
      assert.deepEqual(await client.request({ pub: { cn: 'users/reader-1/x', dt: 1, q: 1, id: 'a' } }, 'pubAck'), { st: 1, id: 'a' });
      assert.deepEqual(await client.request({ pub: { cn: 'news/a', dt: 1, q: 1, id: 'b' } }, 'pubAck'), { st: 7, id: 'b' });
      client.close();
    } finally {
      await broker.destroy();
      await service.close();
    }
  });

  it('no answer within AUTH_HTTP_TIMEOUT_MS gives 5; so does a service that is down', async (t) => {
    const service = await startService();
    const broker = await startAuthBroker({ AUTH_MODE: 'http', AUTH_HTTP_URL: service.url, AUTH_HTTP_TIMEOUT_MS: 300 });
    try {
      const started = Date.now();
      const { client, sent, ack } = await authenticate(broker, { user: 'slow' });
      client.close();
      t.diagnostic(wire(sent, { authAck: ack }));
      assert.deepEqual(ack, { st: 5, mg: 'authentication service did not answer in time' });
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 2000, `answered after ${took} ms`);
      // The service is still there for the others.
      assert.equal((await authAck(broker, { user: 'alice', password: 'pw' }))['st'], 1);
      await service.close();
      const { client: again, sent: downSent, ack: down } = await authenticate(broker, { user: 'alice', password: 'pw' });
      again.close();
      t.diagnostic(wire(downSent, { authAck: down }));
      assert.deepEqual(down, { st: 5, mg: 'authentication service unreachable' });
      // Logged at WRN, at most once a second (the timeout above was, so this one is counted for the next line).
      assert.ok(broker.lines.some((line) => line.startsWith('WRN authentication service: timeout')), broker.lines.join('\n'));
    } finally {
      await broker.destroy();
      await service.close();
    }
  });

  it('past AUTH_MAX_PENDING calls in flight, auth gets 5 "busy", counted', async () => {
    const service = await startService();
    const broker = await startAuthBroker({ AUTH_MODE: 'http', AUTH_HTTP_URL: service.url, AUTH_HTTP_TIMEOUT_MS: 1000, AUTH_MAX_PENDING: 2 });
    try {
      const slow = await Promise.all([RawClient.open('tcp', broker.ports.socket), RawClient.open('tcp', broker.ports.socket)]);
      const waiting = slow.map((client) => client.request({ auth: { dt: { user: 'slow' } } }, 'authAck'));
      while (service.requests.length < 2) await RawClient.pause(10);
      assert.deepEqual(await authAck(broker, { user: 'alice', password: 'pw' }), { st: 5, mg: 'busy' });
      assert.equal(broker.broker.counters.limitHits['AUTH_MAX_PENDING'], 1);
      for (const ack of await Promise.all(waiting)) assert.equal(ack['st'], 5);
      assert.equal((await authAck(broker, { user: 'alice', password: 'pw' }))['st'], 1);
      for (const client of slow) client.close();
    } finally {
      await broker.destroy();
      await service.close();
    }
  });
});
