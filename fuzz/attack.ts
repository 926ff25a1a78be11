/**
 * What every attack gets from the run: the broker's ports, its own random
 * stream, the source addresses it may use, the tallies of what it sent and
 * what it saw, and the flag that tells it to stop. Also the small helpers
 * the attacks share (sleep, bounded worker loops, auth + conn).
 */
import type { Socket } from 'node:net';
import type { BrokerPorts } from './broker-process';
import { Link, type Transport } from './link';
import type { Random } from './random';
import type { Tally } from './tally';

export interface AttackContext {
  ports: BrokerPorts;
  random: Random;
  /** Source addresses (127.0.0.x) this attack opens its connections from. */
  addresses: readonly string[];
  /** What was sent, per kind. */
  sent: Tally;
  /** What came back or happened (refusals, close codes, HTTP statuses, lifetimes). */
  seen: Tally;
  /** True while the attack phase lasts. */
  running(): boolean;
  /** True once the fuzzer itself ends the sockets left open: closes from then on are not the broker's doing. */
  ending(): boolean;
  /**
   * Sockets an attack leaves open on purpose when the attack phase ends
   * (slowloris, floods): they are neither ended nor destroyed until the fd
   * check after the attack is done, so the broker must reap them itself.
   * Holds their TCP sockets.
   */
  abandoned: Set<Socket>;
}

export type Attack = (context: AttackContext) => Promise<void>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function portOf(ports: BrokerPorts, transport: Transport): number {
  return ports[transport];
}

/**
 * Runs `workers` copies of `body` until the attack phase ends, each for at
 * most `maxIterations` rounds (bounded loops), and swallows the network
 * errors an attack expects (refused, reset, timed out), counting them.
 */
export async function workers(
  context: AttackContext, name: string, count: number, maxIterations: number,
  body: (worker: number, iteration: number) => Promise<void>,
): Promise<void> {
  await Promise.all(Array.from({ length: count }, async (_unused, worker) => {
    for (let iteration = 0; iteration < maxIterations && context.running(); iteration++) {
      try {
        await body(worker, iteration);
      } catch (error) {
        context.seen.add(name, `error: ${describeError(error)}`);
        await sleep(20);
      }
    }
  }));
}

export function describeError(error: unknown): string {
  const code = (error as { code?: string })?.code;
  if (code) return code;
  const message = (error as Error)?.message ?? String(error);
  return message.replace(/\d+/g, 'N').slice(0, 60);
}

/** auth + conn with the sample application; resolves once connAck arrives with status 1. */
export async function openSession(link: Link, clientId: string, timeoutMs = 10_000): Promise<void> {
  const token = await link.request(JSON.stringify({ auth: { dt: { client_name: clientId } } }),
    (packet) => (packet['authAck'] ? String(packet['authAck']['at'] ?? '') : undefined), timeoutMs);
  const status = await link.request(JSON.stringify({ conn: { at: token, cl: clientId } }),
    (packet) => (packet['connAck'] ? Number(packet['connAck']['st']) : undefined), timeoutMs);
  if (status !== 1) throw new Error(`conn refused with ${status}`);
}

/** Resolves when the link ends or after `ms`, whichever comes first; answers whether it ended. */
export function endedWithin(link: Link, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (link.closed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    link.end.then(() => { clearTimeout(timer); resolve(true); });
  });
}
