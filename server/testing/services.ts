/**
 * Whether the machine's Redis and MariaDB answer. With
 * JMQT_TEST_REQUIRE_SERVICES=1 (as in CI) a missing service fails its suite
 * instead of skipping it.
 */
import { connect } from 'node:net';

export const servicesRequired = process.env['JMQT_TEST_REQUIRE_SERVICES'] === '1';

export function reachable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false); });
  });
}

/** Answers a `skip` reason when the service is down and not required; throws when it is required. */
export async function serviceSkip(name: string, port: number): Promise<string | false> {
  if (await reachable(port)) return false;
  if (servicesRequired) throw new Error(`${name} on 127.0.0.1:${port} is required (JMQT_TEST_REQUIRE_SERVICES=1) but does not answer`);
  return `${name} not reachable on 127.0.0.1:${port}`;
}
