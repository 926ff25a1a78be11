/**
 * Packet-level junk over all four transports: random garbage, mutated valid
 * packets of every type, invalid UTF-8, and the odd frame over
 * MAX_PACKET_BYTES. Half the connections open a session first, so that the
 * in-session handlers get the junk too. On WebSocket, packets go as text or
 * binary messages written by hand.
 */
import { endedWithin, openSession, portOf, sleep, workers, type AttackContext } from '../attack';
import { Link, TRANSPORTS, isWebSocket } from '../link';
import { garbage, invalidUtf8, mutatedText, oversized, validText } from '../packets';
import { Opcode } from '../ws-frames';

const NAME = 'junk';
/** Connections each worker opens, at most (bounded loop). */
const MAX_CONNECTIONS_PER_WORKER = 5000;
/** Workers per transport. */
const WORKERS_PER_TRANSPORT = 2;

export async function junk(context: AttackContext): Promise<void> {
  const random = context.random;
  let sessions = 0;
  await workers(context, NAME, TRANSPORTS.length * WORKERS_PER_TRANSPORT, MAX_CONNECTIONS_PER_WORKER, async (worker) => {
    const transport = TRANSPORTS[worker % TRANSPORTS.length]!;
    const link = await Link.open({ transport, port: portOf(context.ports, transport), localAddress: random.pick(context.addresses), random });
    link.onPacket(() => context.seen.add(NAME, 'answers'));
    if (random.chance(0.5)) {
      await openSession(link, `fz-${worker}-${++sessions % 50}`);
      context.sent.add(NAME, 'session');
      if (random.chance(0.5)) link.sendText(JSON.stringify({ sub: { cn: 'fuzz', pr: random.int(0, 1) } }));
    }
    const burst = random.int(10, 200);
    for (let i = 0; i < burst && !link.closed && context.running(); i++) {
      const [kind, payload] = random.weighted<() => [string, string | Buffer]>([
        [50, () => mutatedText(random)],
        [20, () => garbage(random)],
        [15, () => ['invalid-utf8', invalidUtf8(random)]],
        [12, () => ['valid', validText(random)]],
        [0.3, () => ['oversized', oversized(random)]],
      ])();
      context.sent.add(NAME, kind);
      if (isWebSocket(transport)) {
        const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
        link.sendFrame({ opcode: random.chance(0.75) ? Opcode.text : Opcode.binary, payload: bytes });
      } else if (random.chance(0.9)) {
        link.sendText(payload);
      } else {
        link.write(payload); // no terminator: glued to the next one
      }
      if (i % 10 === 9) await sleep(random.int(0, 5));
    }
    const ending = random.weighted<string>([[4, 'fin'], [2, 'reset'], [2, 'destroy'], [2, 'wait']]);
    context.sent.add(NAME, `end-${ending}`);
    if (ending === 'fin') link.close(isWebSocket(transport) && random.chance(0.5) ? 1000 : undefined);
    else if (ending === 'reset') link.reset();
    else if (ending === 'destroy') link.destroy();
    if (!(await endedWithin(link, 2000))) link.destroy();
    else if (ending === 'wait') context.seen.add(NAME, 'closed-by-broker');
  });
}
