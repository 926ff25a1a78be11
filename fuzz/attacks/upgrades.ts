/**
 * HTTP requests at the WebSocket ports that a broker must turn down or
 * handle: upgrades to wrong paths, with foreign Origin headers (accepted by
 * default: WS_ALLOWED_ORIGINS is empty), wrong versions and keys, headers
 * over Node's limit, HTTP/1.0 and POST upgrades, two requests pipelined, and
 * plain requests to the API and the dashboard. The answer's status is counted.
 */
import { portOf, sleep, workers, type AttackContext } from '../attack';
import { openSocket, type RawSocket } from '../link';
import { Opcode, closePayload, frame, handshakeRequest } from '../ws-frames';

const NAME = 'upgrades';
const WORKERS = 2;
const MAX_REQUESTS_PER_WORKER = 20_000;

const WRONG_PATHS = ['/x', '/api', '/api/stats', '/ws/', '/wss', '//', '/%00', '/..%2f..%2fetc%2fpasswd', '/' + 'a'.repeat(7000), '*', 'http://evil.example/', '/ws#frag'];
const FOREIGN_ORIGINS = ['http://evil.example', 'null', 'https://127.0.0.1.evil.example', 'file://', 'http://' + 'x'.repeat(4000) + '.example', '\u00e9vil'];

type Request = (key: string, host: string, pick: <T>(items: readonly T[]) => T) => string;

const requests: Record<string, Request> = {
  'wrong-path': (key, host, pick) => handshakeRequest({ host, key, path: pick(WRONG_PATHS) }),
  'foreign-origin': (key, host, pick) => handshakeRequest({ host, key, origin: pick(FOREIGN_ORIGINS) }),
  'foreign-origin-ws-path': (key, host, pick) => handshakeRequest({ host, key, path: '/ws?token=x', origin: pick(FOREIGN_ORIGINS) }),
  'bad-version': (key, host, pick) => handshakeRequest({ host, key, version: pick(['8', '', '13, 8', 'abc', '99999999999999999999']) }),
  'bad-key': (_key, host, pick) => handshakeRequest({ host, key: pick(['', 'short', '!!!!not-base64!!!!', 'x'.repeat(5000)]) }),
  'no-upgrade-header': (key, host) => handshakeRequest({ host, key }).replace('Upgrade: websocket\r\n', ''),
  'header-flood': (key, host) => handshakeRequest({ host, key, extraHeaders: Array.from({ length: 40 }, (_u, i) => `X-Fuzz-${i}: ${'h'.repeat(1000)}`) }),
  'http-1.0-upgrade': (key, host) => handshakeRequest({ host, key }).replace('HTTP/1.1', 'HTTP/1.0'),
  'post-upgrade': (key, host) => handshakeRequest({ host, key }).replace('GET', 'POST'),
  'pipelined-upgrades': (key, host) => handshakeRequest({ host, key }) + handshakeRequest({ host, key, path: '/ws' }),
  'plain-get': (_key, host, pick) => `GET ${pick(['/', '/api/health', '/api/stats', '/api/clients', '/metrics', '/nope', '/index.html'])} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
  'not-http': (_key, _host, pick) => pick(['\x16\x03\x01\x00\x05hello\r\n\r\n', 'SSH-2.0-OpenSSH\r\n\r\n', '{"hb":{}}\0\r\n\r\n', 'GET\r\n\r\n']),
};

/** Reads until the end of the answer's head (or the close) and answers its status line. */
function statusOf(socket: RawSocket['socket'], ms: number): Promise<string> {
  return new Promise((resolve) => {
    let head = '';
    const timer = setTimeout(() => finish('no answer within 3 s'), ms);
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n')) finish(/^HTTP\/1\.[01] (\d+)/.exec(head)?.[1] ?? `not HTTP: ${head.slice(0, 20)}`);
    };
    const finish = (status: string) => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(status);
    };
    socket.on('data', onData);
    socket.once('close', () => finish(head ? /^HTTP\/1\.[01] (\d+)/.exec(head)?.[1] ?? 'closed' : 'closed without answer'));
  });
}

export async function upgrades(context: AttackContext): Promise<void> {
  const names = Object.keys(requests);
  const pick = <T>(items: readonly T[]) => context.random.pick(items);
  await workers(context, NAME, WORKERS, MAX_REQUESTS_PER_WORKER, async () => {
    const transport = context.random.chance(0.7) ? 'ws' : 'wss';
    const port = portOf(context.ports, transport);
    const raw = await openSocket({ port, secure: transport === 'wss', localAddress: pick(context.addresses) });
    const name = pick(names);
    context.sent.add(NAME, name);
    const answer = statusOf(raw.socket, 3000);
    raw.socket.write(requests[name]!(context.random.bytes(16).toString('base64'), `127.0.0.1:${port}`, pick));
    const status = await answer;
    context.seen.add(NAME, `${name} → ${status}`);
    if (status === '101') {
      // Accepted (a foreign origin is, by default): say goodbye properly.
      raw.socket.write(frame({ opcode: Opcode.close, payload: closePayload(1000), mask: context.random.bytes(4) }));
      raw.socket.end();
    }
    setTimeout(() => raw.socket.destroy(), 500).unref();
    await sleep(context.random.int(5, 40));
  });
}
