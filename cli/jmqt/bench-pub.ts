/**
 * `jmqt bench pub`: -C clients connect, then all publish to one channel for
 * -d seconds (or -L messages each). Each message is `{"ts": <epoch ms>, "n": <number>, "pad":
 * "x…"}`, so `jmqt bench sub` can tell the publish-to-push latency. QoS 1
 * measures the pubAck round trip with --inflight pubs awaiting theirs per
 * client; QoS 0 pubs are written as fast as the socket takes them, or one
 * every -I ms.
 */
import { performance } from 'node:perf_hooks';
import { Status, statusName } from '../../shared/client/index';
import { Fleet, perSecond, runFor, sleep, type BenchClient } from './bench-clients';
import { benchCommonHelp, benchOptions, benchSettings, interruption, printSummary } from './bench-settings';
import { ExitCode, usageError } from './errors';
import { intFlag, parseFlags, qosFlag } from './flags';
import { LatencyRecorder, latencyText } from './latency';
import { Progress } from './progress';
import { normaliseChannel } from '../../shared/channel';

export const benchPubHelp = `usage: jmqt bench pub [-C CLIENTS] [-c CHANNEL] [-q 0|1] [-s BYTES] [-I MS] [--inflight N] [-L N] [-d S] [flags]

The clients connect, then all publish to CHANNEL for -d seconds (or until
each sent -L). Summary: messages sent and their rate,
acknowledged and refused (by status), errors, pubAck latency percentiles (QoS 1).

  -c, --channel CHANNEL  default bench
  -q, --qos 0|1          default 1
  -s, --size BYTES       padding in each message (default 32)
  -I, --message-interval MS   ms between one client's pubs (default 0: as fast as answers
                         (QoS 1) or the socket (QoS 0) allow)
      --inflight N       QoS 1 pubs awaiting their pubAck per client, with -I 0 (default 1)
  -L, --limit N          messages per client, then it stops (default 0: no limit)
  -d, --duration S       default 10
${benchCommonHelp}`;

const options = {
  ...benchOptions,
  channel: { type: 'string', short: 'c', default: 'bench' },
  qos: { type: 'string', short: 'q', default: '1' },
  size: { type: 'string', short: 's', default: '32' },
  'message-interval': { type: 'string', short: 'I', default: '0' },
  inflight: { type: 'string', default: '1' },
  limit: { type: 'string', short: 'L', default: '0' },
} as const;

export async function benchPub(args: string[]): Promise<number> {
  const { values } = parseFlags(options, args);
  if (values.help) {
    process.stdout.write(benchPubHelp + '\n');
    return ExitCode.OK;
  }
  const settings = benchSettings(values, 10);
  const channel = normaliseChannel(values.channel);
  if (channel === null || channel.startsWith('$')) throw usageError(`-c, --channel: '${values.channel}' is no channel to publish messages to`);
  const qos = qosFlag(values.qos);
  const pad = 'x'.repeat(intFlag('-s, --size', values.size, 0, 16 * 1024 * 1024));
  const everyMs = intFlag('-I, --message-interval', values['message-interval'], 0, 3_600_000);
  const inflight = intFlag('--inflight', values.inflight, 1, 10_000);
  const limit = intFlag('-L, --limit', values.limit, 0, Number.MAX_SAFE_INTEGER);

  const latency = new LatencyRecorder();
  const refusedBy = new Map<string, number>();
  const counts = { sent: 0, acknowledged: 0, refused: 0, errors: 0 };
  let stopped = false;
  const loops: Array<Promise<void>> = [];
  const stop = interruption();

  const publishing = async ({ client }: BenchClient, perClient: { sent: number }) => {
    let next = performance.now();
    while (!stopped && (limit === 0 || perClient.sent < limit) && client.state === 'session') {
      perClient.sent += 1;
      counts.sent += 1;
      const started = performance.now();
      const data = { ts: performance.timeOrigin + started, n: counts.sent, pad };
      try {
        const answer = await client.pub(channel, data, { qos });
        if (qos === 1) {
          if (answer.status === Status.OK) {
            counts.acknowledged += 1;
            latency.record(performance.now() - started);
          } else {
            counts.refused += 1;
            const name = statusName(answer.status);
            refusedBy.set(name, (refusedBy.get(name) ?? 0) + 1);
          }
        }
      } catch {
        counts.errors += 1;
      }
      if (everyMs > 0) {
        next += everyMs;
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        else next = performance.now();
      }
    }
  };

  const fleet = new Fleet({
    count: settings.clients, intervalMs: settings.intervalMs, target: settings.target, values, requestTimeoutMs: settings.requestTimeoutMs,
  });
  let lastSent = 0;
  const progress = new Progress(() => {
    const line = `bench pub: ${fleet.clients.length}/${settings.clients} clients | sent ${counts.sent} (${counts.sent - lastSent}/s)` +
      (qos === 1 ? ` | acked ${counts.acknowledged} | refused ${counts.refused} | p50 ${latency.percentile(0.5).toFixed(2)} ms` : '') +
      ` | errors ${counts.errors + fleet.failed}`;
    lastSent = counts.sent;
    return line;
  });
  progress.start();
  await fleet.open(() => stop.interrupted);
  const measuredFrom = performance.now();
  for (const member of fleet.clients) {
    const perClient = { sent: 0 };
    const parallel = qos === 1 && everyMs === 0 ? inflight : 1;
    for (let i = 0; i < parallel; i++) loops.push(publishing(member, perClient));
  }
  const limitReached = () => limit > 0 && counts.sent >= limit * fleet.clients.length;
  if (fleet.clients.length > 0 && !stop.interrupted) await runFor(settings.durationMs, () => stop.interrupted || limitReached());
  stopped = true;
  // Pubs still waiting for their pubAck get their answer or their timeout.
  await Promise.race([Promise.all(loops), sleep(settings.requestTimeoutMs)]);
  const seconds = (performance.now() - measuredFrom) / 1000;
  progress.stop();
  stop.release();
  await fleet.close();

  const summary = latency.summary();
  const rate = perSecond(counts.sent, seconds * 1000);
  const refusals = [...refusedBy.entries()].map(([name, count]) => `${name} ${count}`).join(', ');
  printSummary(settings, [
    `bench pub: ${fleet.clients.length} of ${settings.clients} clients connected to ${settings.target.url} (${fleet.failed} failed), channel ${channel}, QoS ${qos}, ${pad.length} B padding, ${seconds.toFixed(1)} s`,
    `sent ${counts.sent} messages, ${rate} msg/s` + (qos === 1 ? `; acknowledged ${counts.acknowledged}, refused ${counts.refused}${refusals ? ` (${refusals})` : ''}` : '') + `; errors ${counts.errors}, dropped connections ${fleet.dropped}`,
    qos === 1 ? `pubAck latency ms: ${latencyText(summary)}` : 'pubAck latency: none (QoS 0 is not acknowledged)',
    ...fleet.errors.top().map((line) => `error: ${line}`),
  ], {
    command: 'bench pub', url: settings.target.url, channel, qos, paddingBytes: pad.length,
    clients: settings.clients, connected: fleet.clients.length, failed: fleet.failed, dropped: fleet.dropped, seconds,
    sent: counts.sent, ratePerSecond: rate, acknowledged: counts.acknowledged, refused: counts.refused, refusedByStatus: Object.fromEntries(refusedBy),
    errors: counts.errors, latencyMs: qos === 1 ? summary : null, errorMessages: fleet.errors.top(10),
  });
  return fleet.clients.length === 0 ? ExitCode.NETWORK : ExitCode.OK;
}
