/**
 * What the fuzzer prints: a progress block every few seconds and the final
 * summary (the same figures, plus the verdict and one JSON line for tools).
 */
import { FD_SLACK, HB_ROUND_TRIP_LIMIT_MS, RSS_GROWTH_LIMIT_BYTES } from './bounds';
import type { GoodReport } from './good-client';
import type { BrokerStats, Monitor } from './monitor';
import { mebibytes } from './proc';
import type { Tally } from './tally';

export interface RunView {
  seed: number;
  seconds: number;
  phase: string;
  elapsedSeconds: number;
  sent: Tally;
  seen: Tally;
  monitor: Monitor;
  good: GoodReport | null;
  fdsAfterReaping: number | null;
  reapedInSeconds: number | null;
}

function brokerLine(view: RunView): string {
  const { baseline, latest, peak } = view.monitor;
  if (!latest || !baseline) return 'broker: (no sample yet)';
  const plus = (bytes: number) => `${bytes >= 0 ? '+' : ''}${mebibytes(bytes)}`;
  return `broker: RSS ${mebibytes(latest.rssBytes)} (${plus(latest.rssBytes - baseline.rssBytes)}; peak ${plus(peak.rssBytes - baseline.rssBytes)}, bound +${mebibytes(RSS_GROWTH_LIMIT_BYTES)}), ` +
    `fds ${latest.fds} (baseline ${baseline.fds}, peak ${peak.fds})`;
}

function goodLine(good: GoodReport | null): string {
  if (!good) return 'good client: (no report yet)';
  const refused = Object.values(good.pub.refused).reduce((sum, count) => sum + count, 0);
  return `good client: hb ${good.hb.count} round trips, p50 ${good.hb.p50} ms, max ${good.hb.max} ms (bound ${HB_ROUND_TRIP_LIMIT_MS}); ` +
    `QoS 1 pubs ${good.pub.sent} sent, ${good.pub.acked} acked (p50 ${good.pub.p50} ms, max ${good.pub.max} ms), ${refused} refused, ${good.pub.timeouts} unanswered; ` +
    `${good.delivered} delivered, ${good.missingCount} missing${good.duplicates ? `, ${good.duplicates} duplicates` : ''}; ` +
    `${good.missingCount === 0 ? 'all acked messages arrived' : 'NOT ALL ACKED MESSAGES ARRIVED'}` +
    (good.disconnects.length ? `; DISCONNECTED: ${good.disconnects.join('; ')}` : '');
}

function statsLine(stats: BrokerStats | null, error: string | null): string {
  if (!stats) return `/api/stats: ${error ?? '(none yet)'}`;
  const c = stats.counters;
  const limits = Object.entries(c.limitHits).map(([key, count]) => `${key} ${count}`).join(', ') || 'none';
  return `/api/stats: connections ${stats.connections.total} (sessions ${stats.connections.sessions}; ` +
    `${Object.entries(stats.connections.byTransport).map(([name, count]) => `${name} ${count}`).join(', ')}), ` +
    `packets in ${c.packetsIn} out ${c.packetsOut}, messages in ${stats.messages.in} out ${stats.messages.out}, ` +
    `dropped packets ${c.droppedPackets}, dropped pushes ${c.droppedPushes}, deferred pushes ${c.deferredPushes}, oversized frames ${c.oversizedFrames}, ` +
    `invalid UTF-8 ${c.invalidUtf8}, duplicates ${c.duplicatePublishes}, subscriptions ${stats.subscriptions}, queued QoS 1 ${stats.queuedQos1}, ` +
    `RSS ${mebibytes(stats.memory.rssBytes)}; limit hits: ${limits}` + (error ? ` (latest request failed: ${error})` : '');
}

function totals(tally: Tally): string {
  return Object.entries(tally.snapshot()).map(([attack, kinds]) => `${attack} ${Object.values(kinds).reduce((sum, n) => sum + n, 0)}`).join(', ');
}

export function progress(view: RunView): string {
  return [
    `[fuzz ${view.elapsedSeconds}s, ${view.phase}] sent: ${totals(view.sent)}`,
    `  ${brokerLine(view)}`,
    `  ${goodLine(view.good)}`,
    `  ${statsLine(view.monitor.stats, view.monitor.statsError)}`,
  ].join('\n');
}

export function summary(view: RunView, failed: string[]): string {
  const { monitor } = view;
  const lines = [
    '',
    `=== JMQT network fuzz: summary (seed ${view.seed}, ${view.seconds} s of attack) ===`,
    'sent:',
    ...view.sent.lines().map((line) => `  ${line}`),
    'seen:',
    ...view.seen.lines().map((line) => `  ${line}`),
    brokerLine(view),
    `fds after the attack: ${view.fdsAfterReaping ?? '?'} ` +
      (view.reapedInSeconds !== null ? `(back within baseline + ${FD_SLACK} after ${view.reapedInSeconds} s)` : '(NOT back to the baseline)'),
    goodLine(view.good),
    statsLine(monitor.stats, monitor.statsError),
    `/api/health: ${monitor.healthChecks} checks, ${monitor.healthFailures.length} unanswered or not 200`,
    failed.length === 0 ? `result: PASSED (seed ${view.seed})` : `result: FAILED (seed ${view.seed}; replay: npm run fuzz -- --seed ${view.seed} --seconds ${view.seconds})`,
    ...failed.map((reason) => `  - ${reason}`),
  ];
  const json = {
    seed: view.seed, seconds: view.seconds, passed: failed.length === 0, failures: failed,
    sent: view.sent.snapshot(), seen: view.seen.snapshot(),
    broker: { baseline: monitor.baseline, peak: monitor.peak, latest: monitor.latest, fdsAfterReaping: view.fdsAfterReaping, reapedInSeconds: view.reapedInSeconds },
    good: view.good, stats: monitor.stats, health: { checks: monitor.healthChecks, failures: monitor.healthFailures.length },
  };
  lines.push(`FUZZ_SUMMARY_JSON ${JSON.stringify(json)}`);
  return lines.join('\n');
}
