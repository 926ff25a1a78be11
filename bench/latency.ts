/**
 * Publish→deliver latency at a fixed rate (open loop): one publisher, one
 * subscriber; each payload starts with '@' and the send time in whole
 * microseconds (15 digits), which the subscriber reads back from the frame.
 */
import { closeAll, openMany, type Conn } from './clients';
import { sizeLabel, type Figures, type LoadShape, type Timing } from './load';
import * as mqtt from './mqtt';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const AT = 0x40; // '@'

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Reads the 15-digit timestamp after the first '@' of `bytes`. */
function stampOf(bytes: Buffer): number {
  const at = bytes.indexOf(AT);
  if (at < 0) return NaN;
  let value = 0;
  for (let i = at + 1; i < at + 16; i++) value = value * 10 + (bytes[i] - 48);
  return value;
}

export function latency(rate: number, size: number): LoadShape {
  const tag = `lat${rate}`;
  return {
    name: `latency-${rate / 1000}k-per-s-${sizeLabel(size)}`,
    description: `1 publisher → 1 subscriber at a fixed ${rate} msg/s, ${size} B payload with the send time in it, QoS 0`,
    metrics: [
      { key: 'p50', label: 'latency p50', unit: 'ms', higherIsBetter: false },
      { key: 'p99', label: 'latency p99', unit: 'ms', higherIsBetter: false },
    ],
    async setup(proto) {
      const topic = 'bench/latency';
      const subs = await openMany(1, 1, async () => {
        const conn = await proto.open(`${tag}s`);
        await proto.subscribe(conn, topic, 0);
        return conn;
      });
      const pubs = await openMany(1, 1, () => proto.open(`${tag}p`)).catch(async (error: unknown) => { await closeAll(subs); throw error; });
      const [sub] = subs;
      const [pub]: Conn[] = pubs;
      const padding = 'x'.repeat(Math.max(0, size - 16));
      const frameAt = (micros: number): Buffer => {
        const payload = '@' + String(Math.round(micros)).padStart(15, '0') + padding;
        return proto.kind === 'jmqt' ? Buffer.from(`{"pub":{"cn":"${topic}","dt":"${payload}"}}\0`) : mqtt.publish(topic, Buffer.from(payload));
      };
      const run = async (timing: Timing): Promise<Figures> => {
        let windowStart = Infinity;
        let windowEnd = Infinity;
        const samples: number[] = [];
        let sentInWindow = 0;
        let receivedInWindow = 0;
        sub.setHandler((frame, flags) => {
          const stamp = stampOf(proto.kind === 'jmqt' ? frame : mqtt.publishPayload(frame, flags));
          if (stamp >= windowStart && stamp < windowEnd) {
            samples.push(performance.now() * 1000 - stamp);
            receivedInWindow++;
          }
        });
        const begin = performance.now();
        let sent = 0;
        const tick = () => {
          const now = performance.now();
          const due = Math.floor(((now - begin) * rate) / 1000) - sent;
          if (due <= 0) return;
          const micros = now * 1000;
          const frame = frameAt(micros);
          const batch = Buffer.allocUnsafe(frame.length * due);
          for (let i = 0; i < due; i++) frame.copy(batch, i * frame.length);
          pub.write(batch);
          sent += due;
          if (micros >= windowStart && micros < windowEnd) sentInWindow += due;
        };
        const timer = setInterval(tick, 1);
        try {
          await sleep(timing.warmupMs);
          windowStart = performance.now() * 1000;
          await sleep(timing.durationMs);
          windowEnd = performance.now() * 1000;
          clearInterval(timer);
          const seconds = (windowEnd - windowStart) / 1e6;
          const deadline = Date.now() + 2000;
          while (receivedInWindow < sentInWindow && Date.now() < deadline) await sleep(10);
          const sorted = Float64Array.from(samples).sort();
          return {
            p50: percentile(sorted, 50) / 1000,
            p99: percentile(sorted, 99) / 1000,
            max: sorted.length ? sorted[sorted.length - 1] / 1000 : NaN,
            rate: sentInWindow / seconds,
            lost: sentInWindow - receivedInWindow,
          };
        } finally {
          clearInterval(timer);
          sub.setHandler(null);
        }
      };
      return { run, teardown: () => closeAll([...subs, ...pubs]) };
    },
  };
}
