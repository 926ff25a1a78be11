/**
 * Turns what a run observed into its failures, one line each; an empty list
 * is a pass. The bounds come from bounds.ts.
 */
import type { Exit } from './broker-process';
import { FD_REAP_SECONDS, FD_SLACK, HB_ROUND_TRIP_LIMIT_MS, RSS_GROWTH_LIMIT_BYTES } from './bounds';
import type { GoodReport } from './good-client';
import type { HealthFailure } from './monitor';
import { mebibytes, type ProcessSample } from './proc';

export interface Observations {
  /** The broker's exit while the fuzzer still needed it. */
  crash: (Exit & { output: string; logTail: string }) | null;
  good: GoodReport | null;
  goodDied: string | null;
  baseline: ProcessSample | null;
  peak: ProcessSample;
  /** Open fds once the reaping wait ended; null if it never ran. */
  fdsAfterReaping: number | null;
  healthFailures: HealthFailure[];
  fuzzerErrors: string[];
}

export function failures(run: Observations): string[] {
  const found: string[] = [];
  if (run.crash) {
    found.push(`broker exited during the run (code ${run.crash.code}, signal ${run.crash.signal})` +
      indent(`stderr/stdout tail:\n${tail(run.crash.output, 30)}\nlog tail:\n${run.crash.logTail}`));
  }
  if (run.goodDied) found.push(run.goodDied);
  const good = run.good;
  if (!good) {
    if (!run.goodDied) found.push('the good client sent no report');
  } else {
    if (good.missingCount > 0) found.push(`good client lost ${good.missingCount} acknowledged QoS 1 message(s), e.g. n = ${good.missing.join(', ')}`);
    if (good.hb.max > HB_ROUND_TRIP_LIMIT_MS) found.push(`hb round trip reached ${good.hb.max} ms (bound ${HB_ROUND_TRIP_LIMIT_MS} ms; ${good.hb.overLimit} over it)`);
    for (const disconnect of good.disconnects) found.push(`good client: ${disconnect}`);
    if (good.pub.timeouts > 0) found.push(`good client: ${good.pub.timeouts} pub(s) never acknowledged`);
    const refused = Object.entries(good.pub.refused);
    if (refused.length > 0) found.push(`good client: pubs refused: ${refused.map(([status, count]) => `${count} × status ${status}`).join(', ')}`);
    if (good.hb.count === 0 || good.pub.acked === 0) found.push('good client made no round trip at all');
  }
  if (run.baseline) {
    const growth = run.peak.rssBytes - run.baseline.rssBytes;
    if (growth > RSS_GROWTH_LIMIT_BYTES) {
      found.push(`broker RSS grew by ${mebibytes(growth)} (baseline ${mebibytes(run.baseline.rssBytes)}, peak ${mebibytes(run.peak.rssBytes)}; bound +${mebibytes(RSS_GROWTH_LIMIT_BYTES)})`);
    }
    if (run.fdsAfterReaping !== null && run.fdsAfterReaping > run.baseline.fds + FD_SLACK) {
      found.push(`broker still held ${run.fdsAfterReaping} fds ${FD_REAP_SECONDS} s after the attack stopped (baseline ${run.baseline.fds}, bound +${FD_SLACK})`);
    }
  }
  if (run.healthFailures.length > 0) {
    found.push(`/api/health did not answer ${run.healthFailures.length} time(s); first: ${run.healthFailures[0]!.problem}`);
  }
  for (const error of run.fuzzerErrors.slice(0, 5)) found.push(`fuzzer error (results unreliable): ${error}`);
  return found;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function indent(text: string): string {
  return '\n' + text.split('\n').map((line) => `      ${line}`).join('\n');
}
