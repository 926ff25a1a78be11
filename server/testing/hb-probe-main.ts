/**
 * An hb round-trip probe in a process of its own (see HbProbeProcess in
 * attack-tools.ts), so that what a test does in its own process (building and
 * writing a flood) does not show as broker latency. Arguments: port, client
 * id, pause between round trips in ms. Prints `ready` once its session is
 * open; on `stop` (standard input) prints the round trips, ms, as one JSON
 * array and exits.
 */
import { connectPeer, sleep } from './attack-tools';

const [port, clientId, every] = process.argv.slice(2);
const peer = await connectPeer(Number(port), clientId!, 'tcp');
const samples: number[] = [];
let running = true;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text: string) => {
  if (text.includes('stop')) running = false;
});
process.stdout.write('ready\n');
while (running) {
  try {
    samples.push(await peer.barrier(10_000));
  } catch {
    samples.push(Infinity);
    break;
  }
  await sleep(Number(every));
}
// Infinity is not JSON: a lost answer is written as null.
process.stdout.write(JSON.stringify(samples.map((ms) => (Number.isFinite(ms) ? ms : null))) + '\n');
peer.destroy();
process.exit(0);
