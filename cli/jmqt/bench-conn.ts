/**
 * `jmqt bench conn`: opens -C sessions (auth + conn each), one every -i ms,
 * and measures how fast they come and how long each takes; then holds them
 * -d seconds (counting those that drop) and closes them.
 */
import { performance } from 'node:perf_hooks';
import { Fleet, perSecond, runFor } from './bench-clients';
import { benchCommonHelp, benchOptions, benchSettings, interruption, printSummary } from './bench-settings';
import { ExitCode } from './errors';
import { parseFlags } from './flags';
import { latencyText } from './latency';
import { Progress } from './progress';

export const benchConnHelp = `usage: jmqt bench conn [-C CLIENTS] [-i MS] [-d S] [flags]

Opens CLIENTS sessions (auth + conn each), one every -i ms, then holds them
for -d seconds and closes them. Summary: sessions opened and failed, their
rate, the auth + conn latency percentiles, connections dropped while held.

  -d, --duration S       hold the sessions this long once all are open (default 0)
${benchCommonHelp}`;

export async function benchConn(args: string[]): Promise<number> {
  const { values } = parseFlags(benchOptions, args);
  if (values.help) {
    process.stdout.write(benchConnHelp + '\n');
    return ExitCode.OK;
  }
  const settings = benchSettings(values, 0);
  const stop = interruption();
  const fleet = new Fleet({ count: settings.clients, intervalMs: settings.intervalMs, target: settings.target, values, requestTimeoutMs: settings.requestTimeoutMs });
  let lastConnected = 0;
  const progress = new Progress(() => {
    const connected = fleet.clients.length;
    const line = `bench conn: ${connected}/${settings.clients} connected (${connected - lastConnected}/s) | failed ${fleet.failed} | dropped ${fleet.dropped}` +
      ` | p50 ${fleet.connectLatency.percentile(0.5).toFixed(2)} ms`;
    lastConnected = connected;
    return line;
  });
  progress.start();
  await fleet.open(() => stop.interrupted);
  const openingMs = (fleet.lastConnectedAt || performance.now()) - fleet.startedAt;
  const held = performance.now();
  if (fleet.clients.length > 0 && !stop.interrupted) await runFor(settings.durationMs, () => stop.interrupted);
  const heldSeconds = (performance.now() - held) / 1000;
  progress.stop();
  stop.release();
  await fleet.close();

  const rate = perSecond(fleet.clients.length, openingMs);
  const summary = fleet.connectLatency.summary();
  printSummary(settings, [
    `bench conn: ${fleet.clients.length} of ${settings.clients} sessions opened at ${settings.target.url} in ${(openingMs / 1000).toFixed(1)} s, ${rate} conn/s; failed ${fleet.failed}`,
    `auth + conn latency ms: ${latencyText(summary)}`,
    `held ${heldSeconds.toFixed(1)} s: dropped ${fleet.dropped}`,
    ...fleet.errors.top().map((line) => `error: ${line}`),
  ], {
    command: 'bench conn', url: settings.target.url, clients: settings.clients, connected: fleet.clients.length, failed: fleet.failed,
    openingSeconds: openingMs / 1000, ratePerSecond: rate, latencyMs: summary, heldSeconds, dropped: fleet.dropped, errorMessages: fleet.errors.top(10),
  });
  return fleet.clients.length === 0 ? ExitCode.NETWORK : ExitCode.OK;
}
