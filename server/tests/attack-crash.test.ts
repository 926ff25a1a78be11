/**
 * Attack findings that used to end the broker process, proved fixed over real
 * sockets against `npm run server` in a child process with the default limits:
 * a crash shows as the child exiting, which these tests check besides a fresh
 * client completing auth → conn → hb.
 *
 * 1. WebSockets refused by the per-address limits, with invalid UTF-8 text
 *    frames on the refused and on the admitted ones.
 * 2. Refused upgrades (wrong path, foreign Origin) reset by the client right
 *    after its request.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChildBroker, closeCodeOf, connectPeer, httpStatus, INVALID_UTF8_TEXT, nextSecond, Peer, rawSocket, sleep, until, upgradeRequest, type RawSocket,
} from '../testing/attack-tools';

/** auth → conn → hb from a new connection: the broker serves. */
async function freshClientWorks(broker: ChildBroker, clientId: string, transport: 'tcp' | 'ws', options: { localAddress?: string; origin?: string } = {}): Promise<void> {
  const client = await connectPeer(broker.port(transport), clientId, transport, options);
  await client.barrier(3000);
  client.destroy();
}

describe('attack: crashes over refused and broken WebSockets', () => {
  it('finding 1: 700 WebSockets at once from one address (200 a second admitted), invalid UTF-8 frames on admitted and refused ones: broker alive', { timeout: 30_000 }, async () => {
    const broker = await ChildBroker.start();
    const sockets: RawSocket[] = [];
    try {
      // A session from another address before the storm, to check it is undisturbed.
      const bystander = await connectPeer(broker.ports.ws, 'bystander', 'ws');
      const fdsBefore = broker.fds();
      // 700 attempts at once: CONNECTION_RATE_PER_ADDRESS (default 200) counts per calendar second,
      // so a burst the broker takes in within three seconds admits at most 600 and refuses the rest.
      const ATTEMPTS = 700;
      const attacker = '127.0.0.2';
      await nextSecond();
      const started = Date.now();
      // The broker decided on a socket before its first byte or its close reached the client.
      let lastDecision = started;
      for (let i = 0; i < ATTEMPTS; i++) {
        const raw = rawSocket(broker.ports.ws, { localAddress: attacker });
        sockets.push(raw);
        const decided = () => { lastDecision = Math.max(lastDecision, Date.now()); };
        raw.socket.once('data', decided);
        raw.socket.once('close', decided);
        raw.socket.once('connect', () => {
          // The handshake and, in the same write, a text frame that is not UTF-8: for a refused
          // socket these bytes arrive at one the broker is destroying.
          raw.socket.write(Buffer.concat([Buffer.from(upgradeRequest({ port: broker.ports.ws, key: randomBytes(16).toString('base64') })), INVALID_UTF8_TEXT]));
        });
        // Once admitted, another invalid frame, written after the 101.
        raw.socket.once('data', () => raw.socket.write(INVALID_UTF8_TEXT));
      }
      await Promise.race([Promise.all(sockets.map((raw) => raw.closed)), sleep(10_000)]);
      // The calendar seconds over which the broker admitted or refused them.
      const spanSeconds = Math.floor(lastDecision / 1000) - Math.floor(started / 1000) + 1;

      const open = sockets.filter((raw) => raw.closedAt === undefined).length;
      const admitted = sockets.filter((raw) => httpStatus(raw.bytes()) === 101);
      const refused = sockets.filter((raw) => raw.bytes().length === 0);
      const other = sockets.filter((raw) => raw.bytes().length > 0 && httpStatus(raw.bytes()) !== 101);
      const codes = new Map<string, number>();
      for (const raw of admitted) codes.set(String(closeCodeOf(raw.bytes())), (codes.get(String(closeCodeOf(raw.bytes()))) ?? 0) + 1);
      process.stdout.write(`# finding 1: ${ATTEMPTS} attempts over ${spanSeconds} s: ${admitted.length} admitted (close codes ${JSON.stringify(Object.fromEntries(codes))}), ${refused.length} refused, ${other.length} other, ${open} still open\n`);

      assert.ok(broker.alive, `the broker exited:\n${broker.output().slice(-3000)}`);
      assert.equal(open, 0, 'every socket was closed by the broker (admitted: 1007; refused: at once)');
      assert.equal(other.length, 0, `answers other than 101 or nothing: ${other.slice(0, 3).map((raw) => raw.bytes().subarray(0, 40).toString('latin1')).join(' | ')}`);
      assert.ok(admitted.length >= 1, 'some WebSockets got through');
      assert.ok(admitted.length <= 200 * spanSeconds, `at most 200 per second admitted: ${admitted.length} in ${spanSeconds} s`);
      assert.ok(refused.length >= Math.max(1, ATTEMPTS - 200 * spanSeconds), `refused: ${refused.length} over ${spanSeconds} s`);
      assert.deepEqual([...codes.keys()], ['1007'], 'every admitted WebSocket was failed with 1007 for its invalid UTF-8 text frame');

      const stats = await broker.stats();
      assert.equal(stats.counters.limitHits['CONNECTION_RATE_PER_ADDRESS'], refused.length, 'each refusal counted');
      assert.equal(stats.counters.invalidUtf8, admitted.length, 'each admitted socket counted one invalid UTF-8 message');

      // Alive and serving: the bystander's session, a fresh client from the loopback address,
      // and, once the second turned, a fresh client from the attacking address itself.
      await bystander.barrier(3000);
      await freshClientWorks(broker, 'fresh-tcp', 'tcp');
      await freshClientWorks(broker, 'fresh-ws', 'ws');
      await nextSecond();
      await freshClientWorks(broker, 'fresh-attacker-ws', 'ws', { localAddress: attacker });
      // Nothing of the storm is left open in the broker.
      await until(() => broker.fds() <= fdsBefore + 2, 5000, `file descriptors back to ${fdsBefore} (now ${broker.fds()})`);
      assert.ok(broker.alive);
      bystander.destroy();
    } finally {
      for (const raw of sockets) raw.socket.destroy();
      await broker.stop();
    }
  });

  it('finding 2: upgrades to a wrong path and with a refused Origin, reset right after the request, 600 times: broker alive, clients served', { timeout: 30_000 }, async () => {
    // WS_ALLOWED_ORIGINS is empty by default (any Origin is accepted); it must be set for a 403 to exist.
    const allowed = 'http://good.example';
    const broker = await ChildBroker.start({ WS_ALLOWED_ORIGINS: allowed });
    try {
      const before = await connectPeer(broker.ports.ws, 'before', 'ws', { origin: allowed });
      const beforeTcp = await connectPeer(broker.ports.tcp, 'before-tcp', 'tcp');
      const fdsBefore = broker.fds();
      const kinds = [
        { name: 'wrong path', request: (port: number) => upgradeRequest({ port, path: '/nope' }), status: 404 },
        { name: 'wrong path /ws/x', request: (port: number) => upgradeRequest({ port, path: '/ws/x', origin: allowed }), status: 404 },
        { name: 'foreign origin', request: (port: number) => upgradeRequest({ port, origin: 'http://evil.example' }), status: 403 },
        { name: 'no origin on /ws', request: (port: number) => upgradeRequest({ port, path: '/ws' }), status: 403 },
      ];
      // When the client resets: in the same tick as its write, a tick later, 2 ms later, or once the answer began.
      const resets = ['same tick', 'next tick', '2 ms', 'on answer'] as const;
      const TOTAL = 600;
      const WORKERS = 20;
      const answered = new Map<string, number[]>();
      let done = 0;
      // 10 source addresses: 600 in ~1 s from one would mostly be refused by CONNECTION_RATE_PER_ADDRESS
      // before reaching the upgrade code this attack is about.
      const worker = async (w: number) => {
        for (let n = w; n < TOTAL; n += WORKERS) {
          const kind = kinds[n % kinds.length]!;
          const reset = resets[Math.floor(n / kinds.length) % resets.length]!;
          const raw = rawSocket(broker.ports.ws, { localAddress: `127.0.0.${10 + (n % 10)}` });
          if (!(await raw.connected)) continue;
          if (reset === 'on answer') {
            const first = new Promise<void>((resolve) => { raw.socket.once('data', () => resolve()); raw.socket.once('close', () => resolve()); });
            raw.socket.write(kind.request(broker.ports.ws));
            await first;
            const status = httpStatus(raw.bytes());
            answered.set(kind.name, [...(answered.get(kind.name) ?? []), status ?? 0]);
          } else {
            raw.socket.write(kind.request(broker.ports.ws));
            if (reset === 'next tick') await new Promise((resolve) => setImmediate(resolve));
            if (reset === '2 ms') await sleep(2);
          }
          if (!raw.socket.destroyed) raw.socket.resetAndDestroy();
          await raw.closed;
          done++;
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, (_unused, w) => worker(w)));
      process.stdout.write(`# finding 2: ${done} reset upgrades; statuses read before the reset: ${JSON.stringify(Object.fromEntries([...answered].map(([name, statuses]) => [name, `${statuses.length} × ${[...new Set(statuses)].join('/')}`])))}\n`);

      assert.ok(broker.alive, `the broker exited:\n${broker.output().slice(-3000)}`);
      assert.equal(done, TOTAL);
      // The refusals still answer what they should (seen by the clients that waited for the answer).
      for (const kind of kinds) {
        const statuses = answered.get(kind.name) ?? [];
        assert.ok(statuses.length > 0, `${kind.name}: some answers were read`);
        assert.deepEqual([...new Set(statuses)], [kind.status], `${kind.name}: answered ${kind.status}`);
      }
      const stats = await broker.stats();
      assert.ok((stats.counters.limitHits['WS_ALLOWED_ORIGINS'] ?? 0) >= TOTAL / 4, `the Origin check was reached: ${stats.counters.limitHits['WS_ALLOWED_ORIGINS']}`);
      // Well-behaved clients: those from before still served, new ones too; a foreign Origin still refused.
      await before.barrier(3000);
      await beforeTcp.barrier(3000);
      await freshClientWorks(broker, 'after', 'ws', { origin: allowed });
      await freshClientWorks(broker, 'after-tcp', 'tcp');
      await assert.rejects(Peer.open('ws', broker.ports.ws, { origin: 'http://evil.example' }), /403/);
      await until(() => broker.fds() <= fdsBefore + 2, 5000, `file descriptors back to ${fdsBefore} (now ${broker.fds()})`);
      assert.ok(broker.alive);
      before.destroy();
      beforeTcp.destroy();
    } finally {
      await broker.stop();
    }
  });
});
