import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAILURE_DELAY_MS } from '../auth/password-auth';
import { parsePasswordFile } from '../auth/password-file';
import { authenticate, signIn, startAuthBroker, tempDir, wire } from '../testing/auth';
import { RawClient, waitFor } from '../testing/harness';

const root = fileURLToPath(new URL('../../', import.meta.url));
const passwdScript = join(root, 'cli/passwd.ts');

/** `npm run -s passwd -- …args`, the password (if any) on standard input. */
function npmPasswd(args: string[], input = ''): { status: number | null; stderr: string } {
  const result = spawnSync('npm', ['run', '-s', 'passwd', '--', ...args], { cwd: root, input, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

/** The same CLI without npm in front, for speed. */
function passwd(args: string[], input = ''): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', passwdScript, ...args], { cwd: root, input, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

const REFUSED = { st: 7, mg: 'wrong client name or password' };

describe('npm run passwd (protocol 13.3)', () => {
  it('adds, replaces and deletes entries, keeping other lines; a new file is 0600', () => {
    const dir = tempDir();
    const file = join(dir, 'passwords');
    assert.equal(npmPasswd([file, 'alice'], 'correct horse\n').status, 0);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    writeFileSync(file, '# operators\n' + readFileSync(file, 'utf8'));
    assert.equal(passwd([file, 'bob'], 'b0b\nignored second line\n').status, 0);
    const before = readFileSync(file, 'utf8');
    assert.match(before, /^# operators\nalice:\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\nbob:\$scrypt\$/);
    assert.ok(!before.includes('correct horse') && !before.includes('b0b'));
    // Replacing gives a new salt and hash, in place.
    assert.equal(passwd([file, 'alice'], 'battery staple\n').status, 0);
    const after = readFileSync(file, 'utf8').split('\n');
    assert.equal(after[0], '# operators');
    assert.ok(after[1]!.startsWith('alice:') && after[1] !== before.split('\n')[1]);
    assert.deepEqual([...parsePasswordFile(after.join('\n'), file).keys()], ['alice', 'bob']);
    assert.equal(npmPasswd(['--delete', file, 'bob']).status, 0);
    assert.deepEqual([...parsePasswordFile(readFileSync(file, 'utf8'), file).keys()], ['alice']);
    // Mistakes change nothing and say why.
    const unchanged = readFileSync(file, 'utf8');
    const missing = passwd(['--delete', file, 'bob']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no entry for "bob"/);
    assert.match(passwd([file, 'carol'], '\n').stderr, /empty password/);
    assert.match(passwd([file, '#carol'], 'x\n').stderr, /begins with '#'/);
    assert.equal(passwd([file]).status, 2);
    assert.equal(readFileSync(file, 'utf8'), unchanged);
  });
});

describe('AUTH_MODE = password (protocol 13.3)', () => {
  async function brokerWith(users: Record<string, string>, config: Record<string, unknown> = {}) {
    const dir = tempDir();
    const file = join(dir, 'passwords');
    for (const [user, password] of Object.entries(users)) assert.equal(passwd([file, user], password + '\n').status, 0);
    return { file, broker: await startAuthBroker({ AUTH_MODE: 'password', PASSWORD_FILE: file, ...config }, dir) };
  }

  it('the right password gives the client id and a token bound to it; wrong password and unknown id look the same', async (t) => {
    const { broker } = await brokerWith({ alice: 's3cret pass', bob: 'other' });
    try {
      const { client, sent, ack } = await authenticate(broker, { client_name: 'alice', password: 's3cret pass' });
      t.diagnostic(wire(sent, { authAck: ack }));
      assert.equal(ack['st'], 1);
      assert.equal(ack['cl'], 'alice');
      assert.equal(typeof ack['at'], 'string');
      // Bound to alice: not bob's, not forged.
      assert.deepEqual(await client.request({ conn: { at: ack['at'], cl: 'bob' } }, 'connAck'), { st: 6 });
      assert.deepEqual(await client.request({ conn: { at: String(ack['at']).slice(0, -2) + 'xx', cl: 'alice' } }, 'connAck'), { st: 6 });
      assert.deepEqual(await client.request({ conn: { at: ack['at'], cl: 'alice' } }, 'connAck'), { st: 1, ts: 15 });
      client.close();

      const timed = async (dt: unknown) => {
        const started = Date.now();
        const { client: other, sent: asked, ack: answer } = await authenticate(broker, dt);
        other.close();
        return { ms: Date.now() - started, asked, answer };
      };
      // The quickest of three of each, so a busy machine does not decide the comparison.
      const fastest = { wrong: Infinity, unknown: Infinity };
      for (let round = 0; round < 3; round++) {
        const wrong = await timed({ client_name: 'alice', password: 'guess' });
        const unknown = await timed({ client_name: 'mallory', password: 'guess' });
        if (round === 0) t.diagnostic(wire(wrong.asked, { authAck: wrong.answer }));
        assert.deepEqual(wrong.answer, REFUSED);
        assert.deepEqual(unknown.answer, REFUSED);
        for (const { ms } of [wrong, unknown]) assert.ok(ms >= FAILURE_DELAY_MS - 5, `refused after ${ms} ms`);
        fastest.wrong = Math.min(fastest.wrong, wrong.ms);
        fastest.unknown = Math.min(fastest.unknown, unknown.ms);
      }
      assert.ok(Math.abs(fastest.wrong - fastest.unknown) < 150, `wrong password ${fastest.wrong} ms, unknown id ${fastest.unknown} ms`);
      // No password and no token is ever logged.
      assert.ok(!broker.lines.some((line) => /s3cret|guess|other/.test(line) || line.includes(String(ack['at']))), broker.lines.join('\n'));
    } finally {
      await broker.destroy();
    }
  });

  it('malformed auth data gets 10', async () => {
    const { broker } = await brokerWith({ alice: 'pw' });
    try {
      const client = await RawClient.open('tcp', broker.ports.socket);
      const malformed = { st: 10, mg: "auth data needs 'client_name' and 'password' strings" };
      for (const dt of [{ client_name: 'alice' }, { password: 'pw' }, { client_name: '', password: 'pw' }, { client_name: 'alice', password: 1 }, 'alice:pw', null, []]) {
        assert.deepEqual(await client.request({ auth: { dt } }, 'authAck'), malformed, JSON.stringify(dt));
      }
      client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('a changed file is read at once: a new password works, a token from before the change or a deletion opens no session', async () => {
    const { file, broker } = await brokerWith({ alice: 'first' });
    try {
      const { client, ack: old } = await authenticate(broker, { client_name: 'alice', password: 'first' });
      assert.equal(old['st'], 1);
      assert.equal(passwd([file, 'alice'], 'second\n').status, 0);
      assert.equal(passwd([file, 'erin'], 'new user\n').status, 0);
      await waitFor(() => broker.lines.some((line) => line === `INF PASSWORD_FILE: reloaded ${file}: 2 clients`), 'the reload');
      assert.deepEqual(await client.request({ auth: { dt: { client_name: 'alice', password: 'first' } } }, 'authAck'), REFUSED);
      assert.deepEqual(await client.request({ conn: { at: old['at'], cl: 'alice' } }, 'connAck'), { st: 6 });
      assert.equal((await client.request({ auth: { dt: { client_name: 'erin', password: 'new user' } } }, 'authAck'))['st'], 1);
      const fresh = await client.request({ auth: { dt: { client_name: 'alice', password: 'second' } } }, 'authAck');
      assert.equal(fresh['st'], 1);
      // Deleted: its id is as unknown as any, and its tokens are void.
      assert.equal(passwd(['--delete', file, 'alice']).status, 0);
      await waitFor(() => broker.lines.some((line) => line === `INF PASSWORD_FILE: reloaded ${file}: 1 client`), 'the second reload');
      assert.deepEqual(await client.request({ conn: { at: fresh['at'], cl: 'alice' } }, 'connAck'), { st: 6 });
      assert.deepEqual(await client.request({ auth: { dt: { client_name: 'alice', password: 'second' } } }, 'authAck'), REFUSED);
      // A bad file is logged and changes nothing.
      writeFileSync(file, readFileSync(file, 'utf8') + 'frank:plaintext-password\n');
      await waitFor(() => broker.lines.some((line) => line.startsWith('ERR PASSWORD_FILE:')), 'the failed reload');
      const error = broker.lines.find((line) => line.startsWith('ERR PASSWORD_FILE:'))!;
      assert.match(error, /passwords:2: the hash is not a scrypt hash/);
      assert.ok(!error.includes('plaintext-password'));
      assert.equal((await client.request({ auth: { dt: { client_name: 'erin', password: 'new user' } } }, 'authAck'))['st'], 1);
      client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('past AUTH_MAX_PENDING verifications in flight, auth gets 5 "busy", counted', async () => {
    const { broker } = await brokerWith({ alice: 'pw' }, { AUTH_MAX_PENDING: 1 });
    try {
      const clients = await Promise.all(Array.from({ length: 6 }, () => RawClient.open('tcp', broker.ports.socket)));
      const acks = await Promise.all(clients.map((client) => client.request({ auth: { dt: { client_name: 'alice', password: 'pw' } } }, 'authAck')));
      const busy = acks.filter((ack) => ack['st'] === 5);
      assert.ok(acks.some((ack) => ack['st'] === 1), JSON.stringify(acks));
      assert.ok(busy.length >= 1, JSON.stringify(acks));
      assert.deepEqual(busy[0], { st: 5, mg: 'busy' });
      assert.equal(broker.broker.counters.limitHits['AUTH_MAX_PENDING'], busy.length);
      // Once the work is done, there is room again.
      assert.equal((await clients[0]!.request({ auth: { dt: { client_name: 'alice', password: 'pw' } } }, 'authAck'))['st'], 1);
      for (const client of clients) client.close();
    } finally {
      await broker.destroy();
    }
  });

  it('with ACL_FILE the password mode is access-controlled too', async () => {
    const dir = tempDir({ 'acl.conf': 'readwrite users/%c/*\n' });
    const file = join(dir, 'passwords');
    assert.equal(passwd([file, 'alice'], 'pw\n').status, 0);
    const controlled = await startAuthBroker({ AUTH_MODE: 'password', PASSWORD_FILE: file, ACL_FILE: join(dir, 'acl.conf') }, dir);
    try {
      const client = await signIn(controlled, { client_name: 'alice', password: 'pw' });
      assert.deepEqual(await client.request({ sub: { cn: 'users/alice/x', pr: 1 } }, 'subAck'), { st: 1, cn: 'users/alice/x' });
      assert.deepEqual(await client.request({ sub: { cn: 'users/bob/x', pr: 1 } }, 'subAck'), { st: 7, cn: 'users/bob/x' });
      // No presence channel outside the sample application.
      assert.deepEqual(await client.request({ pub: { cn: '$mySubscriptions', dt: {}, id: 'm' } }, 'pubAck'), {
        st: 1, id: 'm', dt: { channels: { '#alice': 'persistent', 'users/alice/x': 'persistent' } },
      });
      client.close();
    } finally {
      await controlled.destroy();
    }
  });
});
