import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { authenticate, signIn, startAuthBroker, tempDir, wire, type AuthBroker } from '../testing/auth';
import { RawClient } from '../testing/harness';

const SECRET = 'a-test-secret-of-more-than-32-bytes!';
const hsKey = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

/** A JWT signed now; `exp` one hour ahead unless the claims say otherwise (null: none). */
async function jwt(claims: Omit<JWTPayload, 'exp'> & { exp?: number | null }, key: CryptoKey | Uint8Array = hsKey, header: { alg: string; kid?: string } = { alg: 'HS256' }): Promise<string> {
  const { exp, ...rest } = claims;
  const signer = new SignJWT(rest).setProtectedHeader(header).setIssuedAt();
  if (exp !== null) signer.setExpirationTime(exp ?? now() + 3600);
  return signer.sign(key);
}

async function authWith(broker: AuthBroker, token: unknown) {
  const { client, ack } = await authenticate(broker, { token });
  client.close();
  return ack;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('AUTH_MODE = jwt (protocol 13.4)', () => {
  let es: { publicKey: CryptoKey; privateKey: CryptoKey };
  before(async () => {
    es = await generateKeyPair('ES256', { extractable: true });
  });

  it('HS256 with JWT_SECRET: sub is the client id; expired, wrong audience or issuer, bad signature and missing exp say which', async (t) => {
    const broker = await startAuthBroker({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_AUDIENCE: 'jmqt', JWT_ISSUER: 'https://idp.test/' });
    try {
      const good = await jwt({ sub: 'alice', aud: 'jmqt', iss: 'https://idp.test/' });
      const { client, sent, ack } = await authenticate(broker, { token: good });
      t.diagnostic(wire(sent, { authAck: ack }));
      assert.equal(ack['st'], 1);
      assert.equal(ack['cl'], 'alice');
      assert.notEqual(ack['at'], good, 'the broker issues its own token');
      assert.deepEqual(await client.request({ conn: { at: ack['at'], cl: 'mallory' } }, 'connAck'), { st: 6 });
      assert.deepEqual(await client.request({ conn: { at: good, cl: 'alice' } }, 'connAck'), { st: 6 });
      assert.deepEqual(await client.request({ conn: { at: ack['at'], cl: 'alice' } }, 'connAck'), { st: 1, ts: 15 });
      client.close();

      const base = { sub: 'alice', aud: 'jmqt', iss: 'https://idp.test/' };
      const expired = await jwt({ ...base, exp: now() - 60 });
      const { client: late, sent: lateSent, ack: lateAck } = await authenticate(broker, { token: expired });
      t.diagnostic(wire(lateSent, { authAck: lateAck }));
      late.close();
      assert.deepEqual(lateAck, { st: 7, mg: 'token refused: expired' });
      assert.deepEqual(await authWith(broker, await jwt({ ...base, aud: 'other' })), { st: 7, mg: 'token refused: wrong audience' });
      assert.deepEqual(await authWith(broker, await jwt({ ...base, iss: 'https://evil.test/' })), { st: 7, mg: 'token refused: wrong issuer' });
      assert.deepEqual(await authWith(broker, await jwt(base, new TextEncoder().encode('another-secret-of-more-than-32-bytes'))), { st: 7, mg: 'token refused: bad signature' });
      assert.deepEqual(await authWith(broker, await jwt({ ...base, exp: null })), { st: 7, mg: "token refused: no 'exp' claim" });
      assert.deepEqual(await authWith(broker, await jwt({ aud: 'jmqt', iss: 'https://idp.test/' })), { st: 7, mg: "token refused: no 'sub' claim" });
      assert.deepEqual(await authWith(broker, await jwt(base, es.privateKey, { alg: 'ES256' })), { st: 7, mg: 'token refused: algorithm not allowed' });
      assert.deepEqual(await authWith(broker, 'not.a.jwt'), { st: 7, mg: 'token refused: not a valid JWT' });
      assert.deepEqual(await authWith(broker, 'x'.repeat(3000)), { st: 7, mg: 'token refused: not a valid JWT' });
      for (const dt of [{ jwt: good }, good, { token: 5 }, { token: '' }]) {
        const bad = await authenticate(broker, dt);
        bad.client.close();
        assert.deepEqual(bad.ack, { st: 10, mg: "auth data needs a 'token' string" }, JSON.stringify(dt));
      }
      assert.ok(!broker.lines.some((line) => line.includes(good) || line.includes(String(ack['at']))), 'no token is logged');
    } finally {
      await broker.destroy();
    }
  });

  it('ES256 with JWT_PUBLIC_KEY_PATH; an HS256 token made with the public key is refused', async () => {
    const dir = tempDir({ 'key.pem': await exportSPKI(es.publicKey) });
    const broker = await startAuthBroker({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY_PATH: join(dir, 'key.pem') }, dir);
    try {
      const client = await signIn(broker, { token: await jwt({ sub: 'bob' }, es.privateKey, { alg: 'ES256' }) });
      client.close();
      const other = await generateKeyPair('ES256');
      assert.deepEqual(await authWith(broker, await jwt({ sub: 'bob' }, other.privateKey, { alg: 'ES256' })), { st: 7, mg: 'token refused: bad signature' });
      const confused = await jwt({ sub: 'bob' }, new TextEncoder().encode(await exportSPKI(es.publicKey)));
      assert.deepEqual(await authWith(broker, confused), { st: 7, mg: 'token refused: algorithm not allowed' });
    } finally {
      await broker.destroy();
    }
  });

  it('a key set from JWT_JWKS_URL; a key set that cannot be fetched gives 5', async () => {
    const jwk = { ...(await exportJWK(es.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwks = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    const port = await listen(jwks);
    const broker = await startAuthBroker({ AUTH_MODE: 'jwt', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, AUTH_HTTP_TIMEOUT_MS: 500 });
    try {
      const client = await signIn(broker, { token: await jwt({ sub: 'carol' }, es.privateKey, { alg: 'ES256', kid: 'k1' }) });
      client.close();
      assert.deepEqual(await authWith(broker, await jwt({ sub: 'carol' }, es.privateKey, { alg: 'ES256', kid: 'k2' })), { st: 7, mg: 'token refused: no key of the key set matches' });
    } finally {
      await broker.destroy();
      jwks.close();
    }
    const down = await startAuthBroker({ AUTH_MODE: 'jwt', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, AUTH_HTTP_TIMEOUT_MS: 500 });
    try {
      assert.deepEqual(await authWith(down, await jwt({ sub: 'carol' }, es.privateKey, { alg: 'ES256', kid: 'k1' })), { st: 5, mg: 'token keys unavailable' });
    } finally {
      await down.destroy();
    }
  });

  it('channels.read and channels.write narrow the session, and never widen the ACL file', async () => {
    const dir = tempDir({ 'acl.conf': 'readwrite *\ndeny read news/secret*\nclient limited\nread only/*\n' });
    const broker = await startAuthBroker({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, ACL_FILE: join(dir, 'acl.conf') }, dir);
    try {
      const sub = (client: RawClient, cn: string) => client.request({ sub: { cn, pr: 0 } }, 'subAck', { cn }).then((ack) => ack['st']);
      const pub = (client: RawClient, cn: string) => client.request({ pub: { cn, dt: 1, q: 1, id: cn } }, 'pubAck', { id: cn }).then((ack) => ack['st']);
      const narrowed = await signIn(broker, { token: await jwt({ sub: 'dana', channels: { read: ['news/*', 'users/%c/*'], write: ['users/%c/*'] } }) });
      assert.equal(await sub(narrowed, 'news/today'), 1);
      assert.equal(await sub(narrowed, 'news/secret-plans'), 7); // the file's deny still holds
      assert.equal(await sub(narrowed, 'users/dana/inbox'), 1);
      assert.equal(await sub(narrowed, 'weather'), 7); // the file allows it, the claim does not
      assert.equal(await pub(narrowed, 'users/dana/out'), 1);
      assert.equal(await pub(narrowed, 'news/today'), 7);
      assert.equal(await pub(narrowed, '#someone'), 7);
      narrowed.close();
      // Only one list given: the other access is the file's alone.
      const readOnly = await signIn(broker, { token: await jwt({ sub: 'erin', channels: { read: ['news/*'] } }) });
      assert.equal(await sub(readOnly, 'weather'), 7);
      assert.equal(await pub(readOnly, 'weather'), 1);
      readOnly.close();
      // A claim cannot give more than the file.
      const greedy = await signIn(broker, { token: await jwt({ sub: 'limited', channels: { read: ['*'], write: ['*'] } }) });
      assert.equal(await sub(greedy, 'only/this'), 1);
      assert.equal(await sub(greedy, 'weather'), 1); // the general `readwrite *` applies to every client
      assert.equal(await sub(greedy, 'news/secret-x'), 7);
      greedy.close();
      // Malformed claims are refused at auth.
      assert.deepEqual(await authWith(broker, await jwt({ sub: 'x', channels: { read: 'news/*' } })), { st: 7, mg: "token refused: bad 'channels' claim: 'read' is not an array of patterns" });
      assert.deepEqual(await authWith(broker, await jwt({ sub: 'x', channels: { write: ['a*b'] } })), { st: 7, mg: "token refused: bad 'channels' claim: 'write': '*' may only end a pattern: 'a*b'" });
    } finally {
      await broker.destroy();
    }
  });

  it('claims narrow without an ACL file too, and the session token lasts no longer than the JWT', async () => {
    const broker = await startAuthBroker({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET });
    try {
      const client = await signIn(broker, { token: await jwt({ sub: 'fay', channels: { read: ['a'] } }) });
      assert.equal((await client.request({ sub: { cn: 'a', pr: 0 } }, 'subAck'))['st'], 1);
      assert.equal((await client.request({ sub: { cn: 'b', pr: 0 } }, 'subAck'))['st'], 7);
      client.close();
      const exp = now() + 2;
      const { client: soon, ack } = await authenticate(broker, { token: await jwt({ sub: 'fay', exp }) });
      assert.equal(ack['st'], 1);
      await RawClient.pause(exp * 1000 - Date.now() + 100);
      assert.deepEqual(await soon.request({ conn: { at: ack['at'], cl: 'fay' } }, 'connAck'), { st: 6 });
      soon.close();
    } finally {
      await broker.destroy();
    }
  });

  it('a key file that is no key stops start-up, naming JWT_PUBLIC_KEY_PATH', async () => {
    const dir = tempDir({ 'key.pem': 'not a key\n' });
    await assert.rejects(startAuthBroker({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY_PATH: join(dir, 'key.pem') }, dir), /^ConfigError: JWT_PUBLIC_KEY_PATH: cannot read a PEM public key/);
    writeFileSync(join(dir, 'ed.pem'), await exportSPKI((await generateKeyPair('EdDSA', { extractable: true })).publicKey));
    await assert.rejects(startAuthBroker({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY_PATH: join(dir, 'ed.pem') }, dir), /JWT_PUBLIC_KEY_PATH: .* is a ed25519 key; expected RSA/);
    await assert.rejects(startAuthBroker({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY_PATH: join(dir, 'missing.pem') }, dir), /JWT_PUBLIC_KEY_PATH: .*no such file/);
  });
});
