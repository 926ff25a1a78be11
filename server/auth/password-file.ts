/**
 * The PASSWORD_FILE format (protocol 13.3), read by the broker and edited by
 * `npm run passwd`: one `clientId:hash` line per client, the hash from
 * passwords.ts; blank lines and lines starting with `#` are kept and skipped.
 * Errors name the line but never echo it: a mistaken line may hold a password.
 */
import { parseHash, type PasswordHash } from './passwords';

export class PasswordFileError extends Error {
  override name = 'PasswordFileError';
}

/** Longest client id a file may hold (MAX_CLIENT_ID_LENGTH is at most 255). */
const MAX_ID_LENGTH = 255;

/** Why `clientId` cannot be in a password file, or null when it can. */
export function clientIdProblem(clientId: string): string | null {
  if (clientId === '') return 'the client id is empty';
  if (clientId.length > MAX_ID_LENGTH) return `the client id is over ${MAX_ID_LENGTH} characters`;
  if (clientId.trim() !== clientId) return 'the client id begins or ends with white space';
  if (clientId.startsWith('#')) return "the client id begins with '#' (a comment in the file)";
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(clientId)) return 'the client id holds a control character';
  return null;
}

/** Lines that are neither blank nor comments. */
function isEntry(line: string): boolean {
  const trimmed = line.trim();
  return trimmed !== '' && !trimmed.startsWith('#');
}

/** `id:hash` → its parts; the hash has no ':', so the last one separates them (an id may hold ':'). */
function split(line: string): [string, string] | null {
  const trimmed = line.trim();
  const colon = trimmed.lastIndexOf(':');
  return colon <= 0 ? null : [trimmed.slice(0, colon), trimmed.slice(colon + 1)];
}

/** Parses a password file: client id → hash and the hash's text (its fingerprint goes into tokens). */
export function parsePasswordFile(text: string, origin: string): Map<string, { hash: PasswordHash; text: string }> {
  const entries = new Map<string, { hash: PasswordHash; text: string; line: number }>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (!isEntry(line)) return;
    const where = `${origin}:${index + 1}`;
    const parts = split(line);
    if (!parts) throw new PasswordFileError(`${where}: expected clientId:hash (as npm run passwd writes it)`);
    const [clientId, hashText] = parts;
    const problem = clientIdProblem(clientId);
    if (problem) throw new PasswordFileError(`${where}: ${problem}`);
    const hash = parseHash(hashText);
    if (!hash) throw new PasswordFileError(`${where}: the hash is not a scrypt hash as npm run passwd writes it`);
    const earlier = entries.get(clientId);
    if (earlier) throw new PasswordFileError(`${where}: a second entry for the client id on line ${earlier.line}`);
    entries.set(clientId, { hash, text: hashText, line: index + 1 });
  });
  return new Map([...entries].map(([clientId, { hash, text: hashText }]) => [clientId, { hash, text: hashText }]));
}

/** The file with `clientId`'s entry set to `hashText`: replaced where it was, else appended. */
export function setEntry(text: string, clientId: string, hashText: string): string {
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const entry = `${clientId}:${hashText}`;
  const at = lines.findIndex((line) => isEntry(line) && split(line)?.[0] === clientId);
  if (at >= 0) lines[at] = entry;
  else lines.push(entry);
  return lines.join('\n') + '\n';
}

/** The file without `clientId`'s entry; null when it has none. */
export function deleteEntry(text: string, clientId: string): string | null {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const kept = lines.filter((line) => !(isEntry(line) && split(line)?.[0] === clientId));
  if (kept.length === lines.length) return null;
  return kept.length === 0 || (kept.length === 1 && kept[0] === '') ? '' : kept.join('\n') + '\n';
}
