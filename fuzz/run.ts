/**
 * `npm run fuzz`: a network fuzzer against a live broker in a child process.
 * Starts the broker (broker-process.ts) and the good client (its own
 * process), takes a baseline, runs every attack (attacks/) on all four
 * transports at once for --seconds, then checks that the broker reaps what
 * the attackers left open, that the good client got every acknowledged
 * message, and prints the summary. Exit code 0: passed; 1: a failure (see
 * verdict.ts); 2: bad flags.
 */
import { amplification } from './attacks/amplification';
import { flood } from './attacks/flood';
import { junk } from './attacks/junk';
import { resets } from './attacks/resets';
import { slowloris } from './attacks/slowloris';
import { upgrades } from './attacks/upgrades';
import { wsFrames } from './attacks/ws-frames';
import { sleep, type Attack, type AttackContext } from './attack';
import { DELIVERY_GRACE_MS, FD_REAP_SECONDS, FD_SLACK, REPORT_EVERY_MS, SAMPLE_EVERY_MS } from './bounds';
import { startBroker, type Exit } from './broker-process';
import { GoodClientProcess } from './good-client-process';
import { destroySockets } from './link';
import { Monitor } from './monitor';
import { parseOptions, USAGE, UsageError, type FuzzOptions } from './options';
import { sampleProcess } from './proc';
import { Random } from './random';
import { progress, summary, type RunView } from './report';
import { Tally } from './tally';
import { failures, type Observations } from './verdict';

const address = (n: number) => `127.0.0.${n}`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_unused, i) => address(from + i));

/** Each attack and the source addresses it uses; 127.0.0.1 is the good client's alone. */
const ATTACKS: Array<[string, Attack, string[]]> = [
  ['flood', flood, range(2, 3)],
  ['slowloris', slowloris, range(4, 9)],
  ['junk', junk, range(10, 29)],
  ['ws-frames', wsFrames, range(30, 34)],
  ['resets', resets, range(35, 39)],
  ['upgrades', upgrades, range(40, 44)],
  ['amplification', amplification, range(45, 50)],
];

/** How long attacks get to finish their current round once the sockets are reaped, ms. */
const ATTACK_WIND_DOWN_MS = 5000;

async function run(options: FuzzOptions): Promise<number> {
  const started = Date.now();
  const random = new Random(options.seed);
  const sent = new Tally();
  const seen = new Tally();
  const fuzzerErrors: string[] = [];
  process.on('uncaughtException', (error) => { fuzzerErrors.push(error.stack ?? error.message); });
  process.on('unhandledRejection', (error) => { fuzzerErrors.push(String((error as Error)?.stack ?? error)); });

  console.log(`JMQT network fuzz: seed ${options.seed}, ${options.seconds} s (replay: npm run fuzz -- --seed ${options.seed} --seconds ${options.seconds})`);
  const broker = await startBroker();
  console.log(`broker pid ${broker.pid}: tcp ${broker.ports.tcp}, tls ${broker.ports.tls}, ws ${broker.ports.ws}, wss ${broker.ports.wss}; log ${broker.logPath}`);
  let crash: Observations['crash'] = null;
  broker.exited.then((exit: Exit) => {
    if (!exit.expected) crash = { ...exit, output: broker.output(), logTail: broker.logTail(15) };
  });

  let good: GoodClientProcess | null = null;
  // Interrupted (Ctrl-C, timeout): take the broker and the good client down too, rather than leave them running.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: stopping the broker and the good client`);
      good?.kill();
      destroySockets();
      broker.stop(5000).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  const monitor = new Monitor(broker.pid, broker.ports.ws);
  let goodDied: string | null = null;
  let phase = 'starting';
  let fdsAfterReaping: number | null = null;
  let reapedInSeconds: number | null = null;
  const view = (): RunView => ({
    seed: options.seed, seconds: options.seconds, phase, elapsedSeconds: Math.round((Date.now() - started) / 1000),
    sent, seen, monitor, good: good?.latest ?? null, fdsAfterReaping, reapedInSeconds,
  });
  const sampler = setInterval(() => { monitor.sample().catch(() => undefined); }, SAMPLE_EVERY_MS);
  const printer = setInterval(() => console.log(progress(view())), REPORT_EVERY_MS);

  try {
    good = await GoodClientProcess.start(broker.ports);
    await sleep(1000);
    monitor.setBaseline();
    await monitor.sample();

    phase = 'attack';
    let attacking = true;
    let ending = false;
    const chosen = ATTACKS.filter(([name]) => options.attacks.length === 0 || options.attacks.includes(name));
    const attacks = chosen.map(([name, attack, addresses]) => {
      const context: AttackContext = {
        ports: broker.ports, random: random.fork(name), addresses, sent, seen, running: () => attacking && !crash, ending: () => ending, abandoned: new Set(),
      };
      return { context, done: attack(context).catch((error: Error) => { fuzzerErrors.push(`${name}: ${error.stack ?? error.message}`); }) };
    });
    await Promise.race([sleep(options.seconds * 1000), broker.exited]);
    attacking = false;
    const stoppedAt = Date.now();

    if (!crash) {
      phase = 'reaping';
      // Everything but the sockets left open on purpose (slowloris, floods) ends now; rounds
      // still in flight may open a last socket or two, so this is repeated while waiting.
      const abandoned = () => new Set(attacks.flatMap((attack) => [...attack.context.abandoned]));
      destroySockets(abandoned());
      console.log(`attack over: ${abandoned().size} sockets left open (no FIN) for the broker to reap`);
      const baselineFds = monitor.baseline!.fds;
      while (!crash && Date.now() - stoppedAt < FD_REAP_SECONDS * 1000) {
        destroySockets(abandoned());
        const sample = sampleProcess(broker.pid);
        if (sample && sample.fds <= baselineFds + FD_SLACK) {
          reapedInSeconds = Math.round((Date.now() - stoppedAt) / 100) / 10;
          break;
        }
        await sleep(250);
      }
      fdsAfterReaping = sampleProcess(broker.pid)?.fds ?? null;
      ending = true;
      destroySockets();
    }
    await Promise.race([Promise.all(attacks.map((attack) => attack.done)), sleep(ATTACK_WIND_DOWN_MS)]);
    destroySockets();

    phase = 'delivery';
    const report = await good.finish(DELIVERY_GRACE_MS).catch((error: Error) => { goodDied = error.message; return null; });
    if (report) good.latest = report;
    if (!crash) await monitor.sample();
  } catch (error) {
    fuzzerErrors.push((error as Error).stack ?? String(error));
  } finally {
    clearInterval(sampler);
    clearInterval(printer);
    destroySockets();
  }

  phase = 'done';
  const failed = failures({
    crash, good: good?.latest ?? null, goodDied: goodDied ?? good?.died ?? null, baseline: monitor.baseline, peak: monitor.peak,
    fdsAfterReaping, healthFailures: monitor.healthFailures, fuzzerErrors,
  });
  console.log(summary(view(), failed));
  good?.kill();
  if (!crash) {
    const exit = await broker.stop();
    if (exit.code !== 0) console.log(`note: the broker did not shut down cleanly on SIGTERM (code ${exit.code}, signal ${exit.signal})`);
  } else {
    console.log(`the broker's files are kept for inspection: ${broker.dir}`);
  }
  return failed.length === 0 ? 0 : 1;
}

let options: FuzzOptions | 'help';
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
if (options === 'help') {
  console.log(USAGE);
  process.exit(0);
}
run(options).then((code) => process.exit(code), (error: Error) => {
  console.error(`fuzzer failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
