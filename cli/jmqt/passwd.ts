/**
 * Edits a PASSWORD_FILE for AUTH_MODE = password (protocol 13.3), as
 * `npm run passwd` (cli/passwd.ts) and `jmqt passwd`:
 *
 *   jmqt passwd FILE CLIENT_ID              # password from standard input (one line)
 *   jmqt passwd --delete FILE CLIENT_ID
 *
 * Adds or replaces the client's `clientId:scrypt-hash` line (a new salt each
 * time), or removes it; every other line stays as it was. The file is written
 * whole to a temporary file and renamed over the old one, so a broker
 * watching it never reads half of it; a new file gets mode 0600. A running
 * broker picks the change up by itself (or on SIGHUP).
 */
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { clientIdProblem, deleteEntry, parsePasswordFile, setEntry } from '../../server/auth/password-file';
import { hashPassword } from '../../server/auth/passwords';
import { parseFlags } from './flags';

/** How the tool is called, for its messages: `passwd` (npm run passwd) or `jmqt passwd`. */
let name = 'passwd';
let usage = '';

function fail(message: string, code = 1): never {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(code);
}

/** One line from standard input; from a terminal, asked for without echo. */
async function readPassword(clientId: string): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    process.stderr.write(`password for ${JSON.stringify(clientId)}: `);
    stdin.setRawMode(true);
  }
  return new Promise((resolve, reject) => {
    let text = '';
    const done = () => {
      stdin.off('data', onData);
      stdin.off('end', done);
      if (stdin.isTTY) {
        stdin.setRawMode(false);
        process.stderr.write('\n');
      }
      stdin.pause();
      resolve(text.split(/\r?\n|\r/)[0] ?? '');
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (stdin.isTTY && text.includes('\u0003')) reject(new Error('interrupted'));
      else if (/[\r\n]/.test(text)) done();
    };
    stdin.on('data', onData);
    stdin.on('end', done);
    stdin.on('error', reject);
  });
}

function readExisting(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    return fail(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Writes beside the file, then renames over it, keeping its mode (0600 for a new file). */
function writeWhole(file: string, content: string): void {
  let mode = 0o600;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    // a new file
  }
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, content, { mode, flag: 'wx' });
    chmodSync(temporary, mode);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    fail(`cannot write ${file}: ${(error as Error).message}`);
  }
}

/**
 * Runs the tool on `args` (flags and FILE CLIENT_ID); `invocation` is how it
 * was called, for the usage line (`npm run -s passwd --`, `jmqt passwd`).
 * Failures end the process (1, or 2 for bad usage).
 */
export async function passwd(args: string[], invocation = 'jmqt passwd', toolName = invocation): Promise<void> {
  name = toolName;
  usage = `usage: ${invocation} [--delete] FILE CLIENT_ID   (the password is read from standard input, one line)`;
  try {
    await run(args);
  } catch (error) {
    fail((error as Error).message);
  }
}

async function run(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseFlags({ delete: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, args, true);
  } catch (error) {
    fail(`${(error as Error).message}; ${usage}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage + '\n');
    return;
  }
  if (positionals.length !== 2) fail(usage, 2);
  const [file, clientId] = positionals as [string, string];
  const problem = clientIdProblem(clientId);
  if (problem) fail(problem);
  const existing = readExisting(file);
  try {
    parsePasswordFile(existing, file);
  } catch (error) {
    fail(`${(error as Error).message}; fix it first, nothing was changed`);
  }
  if (values.delete) {
    const content = deleteEntry(existing, clientId);
    if (content === null) fail(`${file} has no entry for ${JSON.stringify(clientId)}`);
    writeWhole(file, content);
    process.stderr.write(`${name}: removed ${JSON.stringify(clientId)} from ${file}\n`);
    return;
  }
  const password = await readPassword(clientId).catch((error: Error) => fail(error.message));
  if (password === '') fail('empty password; nothing was changed');
  const replaced = existing !== '' && parsePasswordFile(existing, file).has(clientId);
  writeWhole(file, setEntry(existing, clientId, await hashPassword(password)));
  process.stderr.write(`${name}: ${replaced ? 'replaced' : 'added'} ${JSON.stringify(clientId)} in ${file}\n`);
}
