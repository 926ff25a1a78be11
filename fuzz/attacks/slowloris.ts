/**
 * Slowloris: many sockets that trickle a request a byte or a line at a time
 * and never finish it nor send FIN. On the TCP and TLS ports, a packet whose
 * NUL never comes; on the HTTP(S)/WebSocket ports, a request line or headers
 * whose final empty line never comes, or nothing at all. A socket the broker
 * closes is opened again; when the attack ends they are left open (no FIN)
 * for the broker to reap. How long the broker let each live is counted.
 */
import { portOf, sleep, type AttackContext } from '../attack';
import { openSocket, type RawSocket, type Transport } from '../link';
import { handshakeRequest } from '../ws-frames';

const NAME = 'slowloris';
/** Sockets kept trickling per port: enough to matter, well under the per-address limit. */
const SOCKETS: Record<Transport, number> = { tcp: 60, tls: 20, ws: 60, wss: 20 };
/** Pause between two trickles of one socket, ms (a byte every second or two). */
const TRICKLE_MS: [number, number] = [800, 2000];
/** Reopenings per socket slot, at most (bounded loop). */
const MAX_ROUNDS_PER_SLOT = 1000;

type Style = { name: string; opening: (host: string) => string; trickle: (index: number) => string };

const packetStyles: Style[] = [
  { name: 'packet-no-nul', opening: () => '{"auth":{"dt":{"client_name":"', trickle: () => 'a' },
  { name: 'silent', opening: () => '', trickle: () => '' },
];
const httpStyles: Style[] = [
  { name: 'request-line', opening: () => 'GET /', trickle: () => 'a' },
  { name: 'headers', opening: (host) => `GET / HTTP/1.1\r\nHost: ${host}\r\n`, trickle: (index) => `X-Slow-${index}: x\r\n` },
  { name: 'upgrade-headers', opening: (host) => handshakeRequest({ host, unfinished: true }) + 'X-Slow: ', trickle: () => 'z' },
  { name: 'silent', opening: () => '', trickle: () => '' },
];

export async function slowloris(context: AttackContext): Promise<void> {
  const slots: Array<Promise<void>> = [];
  let slot = 0;
  for (const transport of Object.keys(SOCKETS) as Transport[]) {
    for (let i = 0; i < SOCKETS[transport]; i++, slot++) {
      const localAddress = context.addresses[slot % context.addresses.length]!;
      slots.push(runSlot(context, transport, localAddress, i));
      if (i % 10 === 9) await sleep(50);
    }
  }
  await Promise.all(slots);
}

async function runSlot(context: AttackContext, transport: Transport, localAddress: string, index: number): Promise<void> {
  const random = context.random;
  const http = transport === 'ws' || transport === 'wss';
  const port = portOf(context.ports, transport);
  const styles = http ? httpStyles : packetStyles;
  for (let round = 0; round < MAX_ROUNDS_PER_SLOT && context.running(); round++) {
    const style = styles[(index + round) % styles.length]!;
    let raw: RawSocket;
    try {
      raw = await openSocket({ port, secure: transport === 'tls' || transport === 'wss', localAddress });
    } catch (error) {
      context.seen.add(NAME, `${transport} connect failed`);
      await sleep(500);
      continue;
    }
    const opened = Date.now();
    context.abandoned.add(raw.tcp);
    let closed = false;
    raw.socket.once('close', () => { closed = true; });
    context.sent.add(NAME, `${transport} ${style.name}`);
    raw.socket.write(style.opening(`127.0.0.1:${port}`));
    for (let trickle = 0; !closed && context.running(); trickle++) {
      await sleep(random.int(...TRICKLE_MS));
      const bytes = style.trickle(trickle);
      if (bytes && !closed) {
        raw.socket.write(bytes);
        context.sent.add(NAME, 'trickles');
      }
    }
    if (!closed) {
      // The attack ended: left open for the broker to reap. Count how long it lives.
      raw.socket.once('close', () => {
        const lived = (Date.now() - opened) / 1000;
        context.seen.add(NAME, context.ending() ? `${transport} ${style.name} still open when the fuzzer ended it (${Math.round(lived)} s old)` : `${transport} ${style.name} reaped after the attack`);
      });
      return;
    }
    context.abandoned.delete(raw.tcp);
    const lived = Math.round((Date.now() - opened) / 1000);
    context.seen.add(NAME, `${transport} ${style.name} closed by broker after ${lived < 5 ? '<5' : lived < 12 ? '5-11' : lived < 20 ? '12-19' : '20+'} s`);
    await sleep(100);
  }
}
