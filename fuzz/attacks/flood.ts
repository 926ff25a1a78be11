/**
 * Connection floods past the per-address limits: from one source address per
 * port, new connections faster than CONNECTION_RATE_PER_ADDRESS (200/s),
 * each held open and silent, so that the open ones pass
 * MAX_CONNECTIONS_PER_ADDRESS (2000) before the connect deadline (10 s)
 * reaps them. Refused connections must be closed at once; when the attack
 * ends the held ones are left open (no FIN) for the broker to reap.
 */
import { portOf, sleep, type AttackContext } from '../attack';
import { Link, type Transport } from '../link';

const NAME = 'flood';
/** Attempts per second per source address: 1.5 × CONNECTION_RATE_PER_ADDRESS. */
const ATTEMPTS_PER_SECOND = 300;
/** Connections held open per source address, at most: past MAX_CONNECTIONS_PER_ADDRESS (2000). */
const MAX_HELD_PER_ADDRESS = 2400;
/** Connects not yet answered, per source address, at most: no pile-up when the broker is slow to accept. */
const MAX_PENDING_PER_ADDRESS = 150;
/** A connection closed by the broker this soon after it opened was refused, ms. */
const REFUSED_WITHIN_MS = 500;
const TICK_MS = 20;

/** Source address → the transports flooded from it, with the share of each. */
function plans(addresses: readonly string[]): Array<{ address: string; transports: Array<[number, Transport]> }> {
  return [
    { address: addresses[0]!, transports: [[9, 'tcp'], [1, 'tls']] },
    { address: addresses[1]!, transports: [[9, 'ws'], [1, 'wss']] },
  ];
}

function outcome(transport: Transport, livedMs: number, closeCode: number | undefined, ending: boolean): string {
  const frame = closeCode ? `, close frame ${closeCode}` : '';
  if (ending) return `${transport} still open when the fuzzer ended it${frame}`;
  if (livedMs < REFUSED_WITHIN_MS) return `${transport} refused: closed at once${frame}`;
  const seconds = livedMs / 1000;
  const range = seconds < 10 ? '0.5-10' : seconds < 14 ? '10-14' : seconds < 30 ? '14-30' : '30+';
  return `${transport} closed by the broker after ${range} s${frame}`;
}

export async function flood(context: AttackContext): Promise<void> {
  await Promise.all(plans(context.addresses).map(async ({ address, transports }) => {
    let held = 0;
    let pending = 0;
    let carry = 0;
    while (context.running()) {
      carry += (ATTEMPTS_PER_SECOND * TICK_MS) / 1000;
      for (; carry >= 1; carry--) {
        if (held + pending >= MAX_HELD_PER_ADDRESS || pending >= MAX_PENDING_PER_ADDRESS) {
          context.sent.add(NAME, 'skipped (fuzzer cap)');
          continue;
        }
        const transport = context.random.weighted(transports);
        context.sent.add(NAME, `${transport}-attempt`);
        pending++;
        const started = Date.now();
        Link.open({ transport, port: portOf(context.ports, transport), localAddress: address, random: context.random, timeoutMs: 15_000 }).then(
          (link) => {
            pending--;
            held++;
            context.abandoned.add(link.raw.tcp);
            link.end.then(() => {
              held--;
              context.abandoned.delete(link.raw.tcp);
              context.seen.add(NAME, outcome(transport, Date.now() - started, link.closeCode, context.ending()));
            });
          },
          (error: Error) => {
            pending--;
            context.seen.add(NAME, `${transport} failed: ${error.message.replace(/\d+/g, 'N').slice(0, 50)}`);
          },
        );
      }
      await sleep(TICK_MS);
    }
  }));
}
