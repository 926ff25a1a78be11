/**
 * `npm run fuzz` as part of `npm test`: the network fuzzer (fuzz/run.ts) for
 * 10 s with a fixed seed against a live broker process, on all four
 * transports. Passes when the fuzzer exits 0 and its summary shows every
 * attack sent something, the good client's every acknowledged QoS 1 message
 * arrived, and nothing crossed a bound. Replaces the in-process fuzz test:
 * the fuzzer sends seeded garbage and mutated packets over TCP, TLS,
 * WebSocket and TLS WebSocket while a good client publishes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ATTACK_NAMES } from '../../fuzz/options';

const runFile = fileURLToPath(new URL('../../fuzz/run.ts', import.meta.url));
const SEED = 20_240_601;
const SECONDS = 10;

interface Summary {
  seed: number;
  passed: boolean;
  failures: string[];
  sent: Record<string, Record<string, number>>;
  good: { hb: { count: number }; pub: { acked: number }; delivered: number; missingCount: number; disconnects: string[] } | null;
  health: { checks: number; failures: number };
}

function runFuzzer(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runFile, '--seconds', String(SECONDS), '--seed', String(SEED)], {
      env: { ...process.env, JMQT_FUZZ_SEED: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk; });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk; });
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('network fuzz: npm run fuzz for 10 s against a live broker', () => {
  it('exits 0 and reports a clean summary', { timeout: 180_000 }, async () => {
    const { code, output } = await runFuzzer();
    const line = output.split('\n').find((text) => text.startsWith('FUZZ_SUMMARY_JSON '));
    assert.ok(line, `no summary printed:\n${output.slice(-3000)}`);
    const summary = JSON.parse(line.slice('FUZZ_SUMMARY_JSON '.length)) as Summary;
    const report = output.split('\n').filter((text) => !text.startsWith('FUZZ_SUMMARY_JSON ')).slice(-40).join('\n');
    assert.deepEqual(summary.failures, [], `fuzzer failures (seed ${SEED}):\n${report}`);
    assert.equal(code, 0, report);
    assert.equal(summary.passed, true);
    assert.equal(summary.seed, SEED);
    assert.match(output, new RegExp(`result: PASSED \\(seed ${SEED}\\)`));
    for (const attack of ATTACK_NAMES) {
      const sent = Object.values(summary.sent[attack] ?? {}).reduce((sum, count) => sum + count, 0);
      assert.ok(sent > 0, `attack ${attack} sent nothing`);
    }
    const good = summary.good!;
    assert.ok(good.hb.count > 10 && good.pub.acked > 10, 'the good client made round trips');
    assert.equal(good.missingCount, 0);
    assert.ok(good.delivered >= good.pub.acked);
    assert.deepEqual(good.disconnects, []);
    assert.ok(summary.health.checks > 5 && summary.health.failures === 0);
  });
});
