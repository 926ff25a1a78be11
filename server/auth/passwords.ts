/**
 * Password hashes (protocol 13.3): scrypt from node:crypto with a random salt,
 * written in the PHC string format `$scrypt$ln=14,r=8,p=1$<salt>$<key>`
 * (base64 without padding). Verification runs the async scrypt, so it works
 * in libuv's thread pool and never blocks the event loop, and compares in
 * constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptCost {
  /** log2 of N, the CPU and memory cost. */
  ln: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

export interface PasswordHash extends ScryptCost {
  salt: Buffer;
  key: Buffer;
}

/** N = 16384, r = 8: 16 MiB and some 50 ms per verification. */
export const DEFAULT_COST: ScryptCost = { ln: 14, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Largest scrypt memory (128 · N · r) a hash may ask for, so a file cannot make each auth take a gigabyte. */
const MAX_MEMORY = 256 * 1024 * 1024;

function memoryOf(cost: ScryptCost): number {
  return 128 * 2 ** cost.ln * cost.r;
}

function derive(password: string, salt: Buffer, length: number, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N: 2 ** cost.ln, r: cost.r, p: cost.p, maxmem: memoryOf(cost) + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

export function formatHash(hash: PasswordHash): string {
  return `$scrypt$ln=${hash.ln},r=${hash.r},p=${hash.p}$${b64(hash.salt)}$${b64(hash.key)}`;
}

/** Parses a PHC scrypt string; null when it is not one, or asks for a cost out of bounds. */
export function parseHash(text: string): PasswordHash | null {
  const match = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text);
  if (!match) return null;
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16 || memoryOf({ ln, r, p }) > MAX_MEMORY) return null;
  const salt = Buffer.from(match[4]!, 'base64');
  const key = Buffer.from(match[5]!, 'base64');
  if (salt.length < 8 || salt.length > 64 || key.length < 16 || key.length > 64) return null;
  return { ln, r, p, salt, key };
}

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return formatHash({ ...cost, salt, key: await derive(password, salt, KEY_BYTES, cost) });
}

export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  const key = await derive(password, hash.salt, hash.key.length, hash);
  return timingSafeEqual(key, hash.key);
}

/**
 * A hash no password matches, at the default cost: verified for client ids
 * that are not in the file, so an unknown id costs what a known one does.
 */
export function dummyHash(): PasswordHash {
  return { ...DEFAULT_COST, salt: randomBytes(SALT_BYTES), key: randomBytes(KEY_BYTES) };
}
