/**
 * Connections reset (TCP RST through socket.resetAndDestroy(), no FIN, no
 * TLS close_notify) at the moments a broker is most likely to mishandle:
 * right after the TCP handshake, right after the TLS handshake, right after
 * (or while) writing a WebSocket upgrade request, right after the 101, and
 * right after a session opened.
 */
import { openSession, portOf, sleep, workers, type AttackContext } from '../attack';
import { Link, openSocket, type Transport } from '../link';
import { handshakeRequest } from '../ws-frames';

const NAME = 'resets';
const WORKERS = 3;
const MAX_RESETS_PER_WORKER = 20_000;

type Variant = (context: AttackContext, localAddress: string) => Promise<void>;

const afterHandshake = (transport: 'tcp' | 'tls'): Variant => async (context, localAddress) => {
  const raw = await openSocket({ port: portOf(context.ports, transport), secure: transport === 'tls', localAddress });
  raw.tcp.resetAndDestroy();
  raw.socket.destroy();
};

/** TCP handshake done, nothing else: on the TLS and HTTPS ports before a ClientHello. */
const beforeTls = (transport: 'tls' | 'wss'): Variant => async (context, localAddress) => {
  const raw = await openSocket({ port: portOf(context.ports, transport), secure: false, localAddress });
  raw.tcp.resetAndDestroy();
};

const afterUpgradeRequest = (transport: 'ws' | 'wss', partial: boolean): Variant => async (context, localAddress) => {
  const port = portOf(context.ports, transport);
  const raw = await openSocket({ port, secure: transport === 'wss', localAddress });
  const request = handshakeRequest({ host: `127.0.0.1:${port}`, key: context.random.bytes(16).toString('base64') });
  raw.socket.write(partial ? request.slice(0, context.random.int(1, request.length - 1)) : request);
  // Same tick most of the time; sometimes a moment later, as the 101 is on its way.
  const delay = context.random.pick([0, 0, 0, 1, 5]);
  if (delay > 0) await sleep(delay);
  raw.tcp.resetAndDestroy();
  raw.socket.destroy();
};

const afterAccept = (transport: 'ws' | 'wss'): Variant => async (context, localAddress) => {
  const link = await Link.open({ transport, port: portOf(context.ports, transport), localAddress, random: context.random });
  link.reset();
};

const afterSession = (transport: Transport): Variant => async (context, localAddress) => {
  const link = await Link.open({ transport, port: portOf(context.ports, transport), localAddress, random: context.random });
  await openSession(link, `fz-reset-${transport}-${context.random.int(0, 9)}`);
  if (context.random.chance(0.5)) link.sendText(JSON.stringify({ sub: { cn: 'fuzz', pr: 0 } }));
  link.reset();
};

const variants: Record<string, Variant> = {
  'tcp-after-tcp-handshake': afterHandshake('tcp'),
  'tls-after-tls-handshake': afterHandshake('tls'),
  'tls-after-tcp-handshake': beforeTls('tls'),
  'wss-after-tcp-handshake': beforeTls('wss'),
  'ws-after-upgrade-request': afterUpgradeRequest('ws', false),
  'wss-after-upgrade-request': afterUpgradeRequest('wss', false),
  'ws-mid-upgrade-request': afterUpgradeRequest('ws', true),
  'ws-after-101': afterAccept('ws'),
  'wss-after-101': afterAccept('wss'),
  'tcp-after-conn': afterSession('tcp'),
  'wss-after-conn': afterSession('wss'),
};

export async function resets(context: AttackContext): Promise<void> {
  const names = Object.keys(variants);
  await workers(context, NAME, WORKERS, MAX_RESETS_PER_WORKER, async () => {
    const name = context.random.pick(names);
    context.sent.add(NAME, name);
    await variants[name]!(context, context.random.pick(context.addresses));
    await sleep(context.random.int(5, 30));
  });
}
