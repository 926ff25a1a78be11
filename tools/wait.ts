/**
 * Waiting for facts, shared by the tests, the deploy scripts and the
 * benchmarks: poll a condition with a deadline, see whether a port accepts,
 * find a free port. A fixed sleep is for letting time pass for a timer under
 * test, never for "nothing else happens".
 */
import { connect, createServer, type AddressInfo } from 'node:net';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it answers truthy; throws `what` after `ms`. */
export async function waitUntil<T>(check: () => T | Promise<T>, ms: number, what: string | (() => string), everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}${detail}`);
    }
    await sleep(everyMs);
  }
}

export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false); });
  });
}

/** A port nothing listens on right now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
