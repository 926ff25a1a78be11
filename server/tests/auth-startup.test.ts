import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatHash, dummyHash } from '../auth/passwords';
import { tempDir, signIn } from '../testing/auth';
import { waitFor, type TestBroker } from '../testing/harness';
import { freePort, spawnBroker } from '../testing/process';

const mainFile = fileURLToPath(new URL('../main.ts', import.meta.url));

/** Runs main.ts with `JMQT_*` variables until it exits; answers its exit code and standard error. */
function startUp(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainFile], {
      env: { ...process.env, JMQT_SOCKET_PORT: '0', JMQT_WEBSOCKET_PORT: '0', JMQT_BIND_ADDRESS: '127.0.0.1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('start-up with AUTH_MODE and ACL_FILE (protocol 13.1)', () => {
  it('a missing or bad file, an unknown mode or a mode without its keys stops start-up, naming the key', async () => {
    const dir = tempDir({
      'passwords': `alice:${formatHash(dummyHash())}\nbob:not-a-hash\n`,
      'acl.conf': 'read news/*\n# a comment\npublish x\n',
      'key.pem': 'not a key\n',
    });
    const db = { JMQT_SQLITE_PATH: join(dir, 'jmqt.db') };
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      // Mode and key combinations are config.test.ts's (loadConfig); one of them here, through main.ts.
      ['unknown mode', { JMQT_AUTH_MODE: 'kerberos' }, /AUTH_MODE .*'kerberos' is not one of sample, password, jwt, http/],
      ['missing password file', { JMQT_AUTH_MODE: 'password', JMQT_PASSWORD_FILE: join(dir, 'nope') }, /PASSWORD_FILE: cannot read .*nope: ENOENT/],
      ['bad password line', { JMQT_AUTH_MODE: 'password', JMQT_PASSWORD_FILE: join(dir, 'passwords') }, /PASSWORD_FILE: .*passwords:2: the hash is not a scrypt hash/],
      ['bad ACL line', { JMQT_ACL_FILE: join(dir, 'acl.conf') }, /ACL_FILE: .*acl\.conf:3: unknown rule 'publish'/],
      ['unreadable ACL file', { JMQT_ACL_FILE: dir }, /ACL_FILE: cannot read .*: EISDIR/],
      ['jwt with a bad key file', { JMQT_AUTH_MODE: 'jwt', JMQT_JWT_PUBLIC_KEY_PATH: join(dir, 'key.pem') }, /JWT_PUBLIC_KEY_PATH: cannot read a PEM public key/],
    ];
    try {
      // Three at a time: each is a Node process compiling the broker.
      const results: Array<{ code: number | null; stderr: string }> = [];
      for (let at = 0; at < cases.length; at += 3) {
        results.push(...await Promise.all(cases.slice(at, at + 3).map(([, env]) => startUp({ ...db, ...env }))));
      }
      cases.forEach(([name, , message], index) => {
        const { code, stderr } = results[index]!;
        assert.equal(code, 2, `${name}: exit code ${code}, ${stderr}`);
        assert.match(stderr, /^configuration error: /, name);
        assert.match(stderr, message, name);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the sample mode warns exactly once; password mode does not, and SIGHUP reloads its files instead of ending the broker', async () => {
    const dir = tempDir({ 'acl.conf': 'read a\n' });
    const env = (extra: Record<string, string>) => ({
      JMQT_WEBSOCKET_PORT: '0', JMQT_BIND_ADDRESS: '127.0.0.1', JMQT_SQLITE_PATH: join(dir, 'jmqt.db'), JMQT_SQLITE_SYNC: 'normal', JMQT_LOG_MODE: 'INF', ...extra,
    });
    try {
      const sample = await spawnBroker(env({ JMQT_SOCKET_PORT: String(await freePort()) }));
      try {
        await waitFor(() => sample.output().includes('JMQT broker listening'), 'the listening line', 10_000);
        const warnings = sample.output().split('\n').filter((line) => / WRN /.test(line));
        assert.equal(warnings.length, 1, sample.output());
        assert.match(warnings[0]!, /sample application.*any client id.*\bdemo\b.*AUTH_MODE/);
        assert.match(sample.output(), / INF authentication: the sample application; no ACL_FILE: every channel allowed/);
      } finally {
        sample.child.kill('SIGTERM');
        await sample.exited;
      }

      const passwords = join(dir, 'passwords');
      writeFileSync(passwords, '');
      const port = await freePort();
      const running = await spawnBroker(env({ JMQT_SOCKET_PORT: String(port), JMQT_AUTH_MODE: 'password', JMQT_PASSWORD_FILE: passwords, JMQT_ACL_FILE: join(dir, 'acl.conf') }));
      try {
        await waitFor(() => running.output().includes('JMQT broker listening'), 'the listening line', 10_000);
        assert.doesNotMatch(running.output(), / WRN /);
        assert.match(running.output(), / INF authentication: passwords from .*passwords \(0 clients\); access rules from .*acl\.conf/);
        running.child.kill('SIGHUP');
        await waitFor(() => running.output().includes('SIGHUP: reloading PASSWORD_FILE') && running.output().includes('SIGHUP: reloading ACL_FILE'), 'the reload', 10_000);
        // Still serving: an entry added by the CLI's format lets a client in.
        const { hashPassword } = await import('../auth/passwords');
        writeFileSync(passwords, `zoe:${await hashPassword('pw')}\n`);
        running.child.kill('SIGHUP');
        await waitFor(() => running.output().includes('reloaded ' + passwords + ': 1 client'), 'the second reload', 10_000);
        const client = await signIn({ ports: { socket: port } } as TestBroker, { client_name: 'zoe', password: 'pw' });
        assert.deepEqual(await client.request({ sub: { cn: 'a', pr: 0 } }, 'subAck'), { st: 1, cn: 'a' });
        assert.deepEqual(await client.request({ sub: { cn: 'b', pr: 0 } }, 'subAck'), { st: 7, cn: 'b' });
        client.close();
      } finally {
        running.child.kill('SIGTERM');
        assert.equal(await running.exited, 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
