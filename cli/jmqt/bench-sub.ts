/**
 * `jmqt bench sub`: -C clients subscribe to one channel and count what they
 * receive for -d seconds (or until -n messages in all). A message with a
 * numeric `ts` (epoch ms, as `jmqt bench pub` sends) gives its
 * publish-to-push latency: the two must run on one machine, or on machines
 * whose clocks agree. QoS 1 pushes are acknowledged by the SDK.
 */
import { performance } from 'node:perf_hooks';
import type { PushEvent } from '../../shared/client/index';
import { normaliseChannel } from '../../shared/channel';
import { Fleet, perSecond, runFor } from './bench-clients';
import { benchCommonHelp, benchOptions, benchSettings, interruption, printSummary } from './bench-settings';
import { ExitCode, usageError } from './errors';
import { subscribeOrFail } from './connection';
import { intFlag, parseFlags } from './flags';
import { LatencyRecorder, latencyText } from './latency';
import { Progress } from './progress';

export const benchSubHelp = `usage: jmqt bench sub [-C CLIENTS] [-c CHANNEL] [--persistent] [-n COUNT] [-d S] [flags]

The clients subscribe to CHANNEL and count the pushes they receive for -d
seconds once all are subscribed (or until -n messages in all). Summary:
messages received and their rate (from the first message to the last),
publish-to-push latency percentiles (messages with a numeric 'ts', as jmqt
bench pub sends them), dropped connections, errors.

  -c, --channel CHANNEL  default bench
      --persistent       persistent subscriptions (QoS 1 copies wait for a client that drops)
  -n, --count N          stop once N messages came, all clients together (default: no limit)
  -d, --duration S       default 60
${benchCommonHelp}`;

const options = {
  ...benchOptions,
  channel: { type: 'string', short: 'c', default: 'bench' },
  persistent: { type: 'boolean', default: false },
  count: { type: 'string', short: 'n' },
} as const;

export async function benchSub(args: string[]): Promise<number> {
  const { values } = parseFlags(options, args);
  if (values.help) {
    process.stdout.write(benchSubHelp + '\n');
    return ExitCode.OK;
  }
  const settings = benchSettings(values, 60);
  const channel = normaliseChannel(values.channel);
  if (channel === null || channel.startsWith('$') || channel.startsWith('#')) throw usageError(`-c, --channel: '${values.channel}' is no channel to subscribe to`);
  const count = values.count === undefined ? 0 : intFlag('-n, --count', values.count, 1, Number.MAX_SAFE_INTEGER);

  const latency = new LatencyRecorder();
  const counts = { received: 0, qos1: 0, retained: 0 };
  let firstAt = 0;
  let lastAt = 0;
  const stop = interruption();
  const onPush = (push: PushEvent) => {
    if (push.channel !== channel) return;
    const now = performance.now();
    if (counts.received === 0) firstAt = now;
    lastAt = now;
    counts.received += 1;
    if (push.qos === 1) counts.qos1 += 1;
    if (push.retained) counts.retained += 1;
    const ts = typeof push.data === 'object' && push.data !== null && !Array.isArray(push.data) ? push.data['ts'] : undefined;
    if (typeof ts === 'number' && !push.retained) latency.record(performance.timeOrigin + now - ts);
  };
  const fleet = new Fleet({
    count: settings.clients, intervalMs: settings.intervalMs, target: settings.target, values, requestTimeoutMs: settings.requestTimeoutMs,
    onSession: async ({ client }) => {
      client.on('push', onPush);
      await subscribeOrFail(client, channel, values.persistent);
    },
  });
  let lastReceived = 0;
  const progress = new Progress(() => {
    const line = `bench sub: ${fleet.clients.length - fleet.dropped}/${settings.clients} clients | received ${counts.received} (${counts.received - lastReceived}/s)` +
      ` | p50 ${latency.percentile(0.5).toFixed(2)} ms | errors ${fleet.errors.total}`;
    lastReceived = counts.received;
    return line;
  });
  progress.start();
  await fleet.open(() => stop.interrupted);
  const subscribed = fleet.clients.length;
  const measuredFrom = performance.now();
  if (subscribed > 0 && !stop.interrupted) await runFor(settings.durationMs, () => stop.interrupted || (count > 0 && counts.received >= count));
  const seconds = (performance.now() - measuredFrom) / 1000;
  progress.stop();
  stop.release();
  await fleet.close();

  const flowingMs = counts.received > 1 ? lastAt - firstAt : 0;
  const rate = perSecond(counts.received, flowingMs);
  const summary = latency.summary();
  printSummary(settings, [
    `bench sub: ${fleet.clients.length} of ${settings.clients} clients subscribed to ${channel} at ${settings.target.url} (${fleet.failed} failed), ${seconds.toFixed(1)} s`,
    `received ${counts.received} messages (QoS 1 ${counts.qos1}, retained ${counts.retained}), ${rate} msg/s over ${(flowingMs / 1000).toFixed(1)} s of traffic; dropped connections ${fleet.dropped}`,
    `publish-to-push latency ms: ${latencyText(summary)}`,
    ...fleet.errors.top().map((line) => `error: ${line}`),
  ], {
    command: 'bench sub', url: settings.target.url, channel, persistent: values.persistent,
    clients: settings.clients, connected: fleet.clients.length, failed: fleet.failed, dropped: fleet.dropped, seconds,
    received: counts.received, qos1: counts.qos1, retained: counts.retained, ratePerSecond: rate, trafficSeconds: flowingMs / 1000,
    latencyMs: summary, errors: fleet.errors.total, errorMessages: fleet.errors.top(10),
  });
  return fleet.clients.length === 0 ? ExitCode.NETWORK : ExitCode.OK;
}
