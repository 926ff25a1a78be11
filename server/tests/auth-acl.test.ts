import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseAcl, AclError } from '../auth/acl';
import { withAccessControl } from '../auth/access-control';
import { watchFile } from '../auth/reloading';
import { sampleApplication } from '../sample-app';
import { TokenSigner } from '../tokens';
import { Status } from '../../shared/status';
import { authenticate, captureLogger, signIn, startAuthBroker, tempDir, wire } from '../testing/auth';
import { RawClient, startTestBroker, TEST_SECRET, waitFor, connectClient } from '../testing/harness';

const table = `
# before the first client line: every client
read news/*
deny read news/secret*
readwrite users/%c/*
write #ops
write $time
readwrite chat/%c
client ops
readwrite *
deny write $shutdown
client guest
deny readwrite users/*
`;

describe('ACL rules (protocol 13.6)', () => {
  const rules = parseAcl(table, 'acl');
  const cases: Array<[string, 'read' | 'write', string, boolean]> = [
    ['alice', 'read', 'news/today', true], // prefix
    ['alice', 'read', 'news', false], // the prefix is 'news/'
    ['alice', 'write', 'news/today', false], // read only
    ['alice', 'read', 'news/secret-plans', false], // deny wins over allow
    ['ops', 'read', 'news/secret-plans', false], // ... also over a later allow of another section
    ['alice', 'read', 'users/alice/inbox', true], // %c
    ['alice', 'write', 'users/alice/inbox', true],
    ['alice', 'read', 'users/bob/inbox', false], // another client's
    ['alice', 'write', 'chat/alice', true], // %c, exact
    ['alice', 'write', 'chat/alice2', false],
    ['alice', 'write', '#ops', true], // P2P: may send to ops
    ['alice', 'write', '#bob', false],
    ['alice', 'write', '$time', true], // control: may make that request
    ['alice', 'write', '$shutdown', false],
    ['alice', 'read', 'elsewhere', false], // nothing allows it
    ['ops', 'read', 'elsewhere', true], // its own section
    ['ops', 'write', '#anyone', true],
    ['ops', 'write', '$shutdown', false], // deny wins
    ['guest', 'read', 'news/today', true], // the general rules apply to every client
    ['guest', 'read', 'users/guest/inbox', false], // its deny wins over the general allow
  ];
  for (const [clientId, access, channel, expected] of cases) {
    it(`${clientId} ${access} ${channel}: ${expected ? 'allowed' : 'refused'}`, () => {
      assert.equal(rules.allows(clientId, access, channel), expected);
    });
  }

  it('counts rules and client sections; several sections of one id add up', () => {
    assert.equal(rules.ruleCount, 9);
    const twice = parseAcl('client a\nread x\nclient b\nread y\nclient a\nread z\n', 'acl');
    assert.equal(twice.allows('a', 'read', 'z'), true);
    assert.equal(twice.allows('a', 'read', 'y'), false);
  });

  const bad: Array<[string, RegExp]> = [
    ['read news/*\nsubscribe x\n', /^acl:2: unknown rule 'subscribe'/],
    ['\n\nread\n', /^acl:3: 'read' needs a pattern/],
    ['deny\n', /^acl:1: 'deny' needs read, write or readwrite/],
    ['deny publish x\n', /^acl:1: 'deny' needs read, write or readwrite/],
    ['client\n', /^acl:1: 'client' needs a client id/],
    ['write a*b\n', /^acl:1: '\*' may only end a pattern/],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text)} with its line number`, () => {
      assert.throws(() => parseAcl(text, 'acl'), (error: Error) => error instanceof AclError && message.test(error.message));
    });
  }

  it('a code application composes the rules with its own hooks', async () => {
    const tokens = new TokenSigner(TEST_SECRET, 3600);
    const log = captureLogger([]);
    const application = withAccessControl({
      ...sampleApplication(tokens, log),
      handleControl: (channel) => (channel === '$time' ? { status: Status.OK, data: { now: 1 } } : { status: Status.NOT_ALLOWED }),
    }, { rules: () => rules });
    const broker = await startTestBroker({}, application);
    try {
      const alice = await connectClient(broker, 'alice');
      assert.deepEqual(await alice.request({ pub: { cn: '$time', dt: {}, id: 't' } }, 'pubAck'), { st: 1, id: 't', dt: { now: 1 } });
      assert.deepEqual(await alice.request({ pub: { cn: '$shutdown', dt: {}, id: 's' } }, 'pubAck'), { st: 7, id: 's', dt: { error: 'not allowed' } });
      // The sample application's own rule still holds: `update` is the server's.
      const ops = await connectClient(broker, 'ops');
      assert.deepEqual(await ops.request({ sub: { cn: 'update', pr: 0 } }, 'subAck'), { st: 7, cn: 'update' });
      assert.deepEqual(await ops.request({ sub: { cn: 'anything', pr: 0 } }, 'subAck'), { st: 1, cn: 'anything' });
      alice.close();
      ops.close();
    } finally {
      await broker.destroy();
    }
  });
});

describe('ACL_FILE over real sockets (protocol 13.6)', () => {
  it('sub and pub get 7 where no rule allows, P2P and control requests included; #clientId and unsub are never refused', async (t) => {
    const dir = tempDir({ 'acl.conf': table });
    const broker = await startAuthBroker({ ACL_FILE: join(dir, 'acl.conf') }, dir);
    try {
      const ops = await signIn(broker, { client_name: 'ops' });
      const alice = await signIn(broker, { client_name: 'alice' });
      const sub = (client: RawClient, cn: string) => client.request({ sub: { cn, pr: 0 } }, 'subAck', { cn });
      const pub = (client: RawClient, cn: string, id: string) => client.request({ pub: { cn, dt: 'x', q: 1, id } }, 'pubAck', { id });
      assert.deepEqual(await sub(alice, 'news/today'), { st: 1, cn: 'news/today' });
      const refused = { sub: { cn: 'news/secret-plans', pr: 0 } };
      const ack = await alice.request(refused, 'subAck');
      t.diagnostic(`wire: → ${JSON.stringify(refused)}  ← ${JSON.stringify({ subAck: ack })}`);
      assert.deepEqual(ack, { st: 7, cn: 'news/secret-plans' });
      assert.deepEqual(await sub(alice, 'users/alice/inbox'), { st: 1, cn: 'users/alice/inbox' });
      assert.deepEqual(await sub(alice, 'users/bob/inbox'), { st: 7, cn: 'users/bob/inbox' });
      assert.deepEqual(await sub(alice, 'elsewhere'), { st: 7, cn: 'elsewhere' });
      assert.deepEqual(await pub(alice, 'news/today', 'p1'), { st: 7, id: 'p1' });
      assert.deepEqual(await pub(alice, 'users/alice/inbox', 'p2'), { st: 1, id: 'p2' });
      // P2P: alice may send to ops, not to bob.
      assert.deepEqual(await pub(alice, '#ops', 'p3'), { st: 1, id: 'p3' });
      const push = await ops.seen('push', { cn: '#ops' });
      assert.deepEqual([push['dt'], push['cl']], ['x', 'alice']);
      assert.deepEqual(await pub(alice, '#bob', 'p4'), { st: 7, id: 'p4' });
      // Control: $time is allowed (and reaches the application, which knows no $time), $shutdown is not.
      assert.deepEqual(await alice.request({ pub: { cn: '$time', dt: {}, id: 'c1' } }, 'pubAck'), { st: 7, id: 'c1', dt: { error: 'unknown control channel' } });
      assert.deepEqual(await alice.request({ pub: { cn: '$shutdown', dt: {}, id: 'c2' } }, 'pubAck'), { st: 7, id: 'c2', dt: { error: 'not allowed' } });
      // The session's own #alice subscription is there, whatever the rules say; unsub is never refused.
      const mine = await alice.request({ pub: { cn: '$mySubscriptions', dt: {}, id: 'm' } }, 'pubAck');
      assert.equal((mine['dt'] as { channels: Record<string, string> }).channels['#alice'], 'persistent');
      assert.deepEqual(await alice.request({ unsub: { cn: 'elsewhere' } }, 'unsubAck'), { st: 0, cn: 'elsewhere' });
      // ops has a section of its own.
      assert.deepEqual(await sub(ops, 'elsewhere'), { st: 1, cn: 'elsewhere' });
      assert.deepEqual(await pub(ops, 'news/today', 'o1'), { st: 1, id: 'o1' });
      assert.deepEqual(await ops.request({ pub: { cn: '$shutdown', dt: {}, id: 'o2' } }, 'pubAck'), { st: 7, id: 'o2', dt: { error: 'not allowed' } });
      alice.close();
      ops.close();
    } finally {
      await broker.destroy();
    }
  });

  it('a changed file applies to the next request at once; a bad one is logged as ERR and the last good rules stay', async () => {
    const dir = tempDir({ 'acl.conf': 'read a\n' });
    const file = join(dir, 'acl.conf');
    const broker = await startAuthBroker({ ACL_FILE: file }, dir);
    try {
      const client = await signIn(broker, { client_name: 'carol' });
      assert.deepEqual(await client.request({ sub: { cn: 'b', pr: 0 } }, 'subAck'), { st: 7, cn: 'b' });
      // Replaced the way editors do it: a new file renamed over the old one.
      writeFileSync(file + '.new', 'read a\nread b\n');
      renameSync(file + '.new', file);
      await waitFor(() => broker.lines.some((line) => line.startsWith('INF ACL_FILE: reloaded')), 'the reload');
      assert.deepEqual(await client.request({ sub: { cn: 'b', pr: 0 } }, 'subAck'), { st: 1, cn: 'b' });
      writeFileSync(file, 'read a\nread b\nread c\nsubscribe d\n');
      await waitFor(() => broker.lines.some((line) => line.startsWith('ERR ACL_FILE:')), 'the failed reload');
      assert.match(broker.lines.find((line) => line.startsWith('ERR ACL_FILE:'))!, /acl\.conf:4: unknown rule 'subscribe'.*keeping what was read before/);
      assert.deepEqual(await client.request({ sub: { cn: 'c', pr: 0 } }, 'subAck'), { st: 7, cn: 'c' });
      assert.deepEqual(await client.request({ sub: { cn: 'b', pr: 0 } }, 'subAck'), { st: 1, cn: 'b' });
      client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('SIGHUP re-reads the file (with no change noticed by the watcher)', async () => {
    const dir = tempDir({ 'acl.conf': 'read a\n' });
    const file = join(dir, 'acl.conf');
    const lines: string[] = [];
    // A debounce no test waits for: only the signal can reload it.
    const rules = watchFile({ key: 'ACL_FILE', path: file, parse: parseAcl, describe: (r) => `${r.ruleCount} rules`, log: captureLogger(lines), debounceMs: 600_000 });
    try {
      assert.equal(rules.current.allows('x', 'read', 'b'), false);
      writeFileSync(file, 'read a\nread b\n');
      process.kill(process.pid, 'SIGHUP');
      await waitFor(() => rules.current.allows('x', 'read', 'b'), 'the rules after SIGHUP');
      assert.ok(lines.includes('INF SIGHUP: reloading ACL_FILE'));
    } finally {
      rules.close();
    }
  });

  it('without ACL_FILE everything is allowed, as before (the sample mode, unchanged on the wire)', async (t) => {
    const broker = await startAuthBroker({});
    try {
      const { client, sent, ack } = await authenticate(broker, { client_name: 'dave' });
      t.diagnostic(wire(sent, { authAck: ack }));
      assert.deepEqual([ack['st'], ack['cl']], [1, 'dave']);
      // The sample's token as it always was: id and expiry, signature; no payload.
      assert.equal(String(ack['at']).split('.').length, 2);
      assert.ok(new TokenSigner(TEST_SECRET, 86400).verify(String(ack['at']), 'dave'));
      assert.deepEqual(await client.request({ conn: { at: ack['at'], cl: 'dave' } }, 'connAck'), { st: 1, ts: 15 });
      assert.deepEqual(await client.request({ sub: { cn: 'anything/at/all', pr: 0 } }, 'subAck'), { st: 1, cn: 'anything/at/all' });
      assert.deepEqual(await client.request({ pub: { cn: '#someone', dt: 1, q: 1, id: '1' } }, 'pubAck'), { st: 8, id: '1' });
      client.close();
    } finally {
      await broker.destroy();
    }
  });
});
