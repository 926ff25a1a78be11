/**
 * The load shapes that reuse one set of connections per broker: closed-loop
 * QoS 0 throughput (fan-out, fan-in, P2P), QoS 1 with acks, and latency at a
 * fixed rate. A shape's setup() opens the clients once; run() is called once
 * per repeat, alternating brokers; teardown() closes the clients.
 */
import { closeAll, openMany, type Conn, type Endpoint, type Proto } from './clients';
import { cpuSeconds } from './brokers';
import * as mqtt from './mqtt';

export interface Timing {
  warmupMs: number;
  durationMs: number;
}

/** One run's figures, by metric key. */
export type Figures = Record<string, number>;

export interface Metric {
  key: string;
  label: string;
  unit: string;
  higherIsBetter: boolean;
}

export interface Prepared {
  run(timing: Timing): Promise<Figures>;
  teardown(): Promise<void>;
}

export interface LoadShape {
  name: string;
  description: string;
  /** Shown in the table; the first one is drawn in the chart. */
  metrics: Metric[];
  setup(proto: Proto, endpoint: Endpoint): Promise<Prepared>;
}

const OPEN_CONCURRENCY = 50;
/** No delivery for this long while messages are outstanding: count them lost and go on. */
const STALL_MS = 1000;
/** After a run, how long to wait for stragglers. */
const DRAIN_MS = 3000;
const PUBLISHER_BUFFER_LIMIT = 1 << 20;

/** 64 → '64B', 1024 → '1KiB'. */
export const sizeLabel = (size: number): string => (size % 1024 === 0 ? `${size / 1024}KiB` : `${size}B`);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function payloadOf(size: number): string {
  return 'x'.repeat(size);
}

function sumReceived(conns: Conn[]): number {
  let total = 0;
  for (const conn of conns) total += conn.received();
  return total;
}

function repeatFrame(frame: Buffer, count: number): Buffer {
  if (count === 1) return frame;
  const out = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

/** Waits until `done()` or until `progress()` stops moving for `quietMs` (at most DRAIN_MS). */
async function drain(done: () => boolean, progress: () => number, quietMs = 500): Promise<void> {
  const deadline = Date.now() + DRAIN_MS;
  let last = progress();
  let lastChange = Date.now();
  while (!done() && Date.now() < deadline && Date.now() - lastChange < quietMs) {
    await sleep(10);
    const now = progress();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    }
  }
}

interface LoopSpec {
  pubs: Conn[];
  /** The frame each publisher sends. */
  frames: Buffer[];
  subs: Conn[];
  /** Deliveries one publish makes. */
  fanout: number;
  /** Most deliveries outstanding (published, not yet received) at any time. */
  window: number;
  pid: number;
}

/**
 * Closed loop: publishers write only while fewer than `window` deliveries
 * are outstanding, so a broker is measured at the rate it actually delivers
 * instead of being flooded. Deliveries are counted, never parsed.
 */
async function closedLoop(spec: LoopSpec, timing: Timing): Promise<Figures> {
  const { pubs, frames, subs, fanout, window } = spec;
  const base = sumReceived(subs);
  let expected = 0; // deliveries the publishes so far should make
  let forgiven = 0; // deliveries given up as lost after a stall
  let publishes = 0;
  let running = true;
  let scheduled = false;
  let next = 0;
  let lastDelivered = 0;
  let lastProgress = Date.now();
  const delivered = () => sumReceived(subs) - base;

  const pump = () => {
    scheduled = false;
    if (!running) return;
    const got = delivered();
    const now = Date.now();
    if (got !== lastDelivered) {
      lastDelivered = got;
      lastProgress = now;
    }
    let outstanding = expected - forgiven - got;
    if (outstanding > 0 && now - lastProgress > STALL_MS) {
      forgiven += outstanding;
      outstanding = 0;
      lastProgress = now;
    }
    let budget = Math.floor((window - outstanding) / fanout);
    if (budget <= 0) return;
    const counts = new Array<number>(pubs.length).fill(0);
    let blocked = 0;
    while (budget > 0 && blocked < pubs.length) {
      const index = next;
      next = (next + 1) % pubs.length;
      if (pubs[index].socket.writableLength > PUBLISHER_BUFFER_LIMIT) {
        blocked++;
        continue;
      }
      counts[index]++;
      budget--;
    }
    for (let i = 0; i < pubs.length; i++) {
      if (counts[i] === 0) continue;
      pubs[i].write(repeatFrame(frames[i], counts[i]));
      publishes += counts[i];
      expected += counts[i] * fanout;
    }
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(pump);
    }
  };
  for (const sub of subs) sub.socket.on('data', schedule);
  for (const pub of pubs) pub.socket.on('drain', schedule);
  const ticker = setInterval(schedule, 5);
  try {
    schedule();
    await sleep(timing.warmupMs);
    const start = { at: performance.now(), delivered: delivered(), publishes, cpu: cpuSeconds(spec.pid), self: process.cpuUsage() };
    await sleep(timing.durationMs);
    const seconds = (performance.now() - start.at) / 1000;
    const end = { delivered: delivered(), publishes, cpu: cpuSeconds(spec.pid), self: process.cpuUsage(start.self) };
    running = false;
    await drain(() => delivered() >= expected - forgiven, delivered);
    return {
      deliveries: (end.delivered - start.delivered) / seconds,
      publishes: (end.publishes - start.publishes) / seconds,
      lost: Math.max(0, expected - delivered()),
      brokerCpu: (100 * (end.cpu - start.cpu)) / seconds,
      generatorCpu: (end.self.user + end.self.system) / 1e4 / seconds,
    };
  } finally {
    running = false;
    clearInterval(ticker);
    for (const sub of subs) sub.socket.off('data', schedule);
    for (const pub of pubs) pub.socket.off('drain', schedule);
  }
}

const throughputMetrics: Metric[] = [{ key: 'deliveries', label: 'deliveries/s', unit: 'msg/s', higherIsBetter: true }];

function prepared(conns: Conn[][], run: (timing: Timing) => Promise<Figures>): Prepared {
  return { run, teardown: () => closeAll(conns.flat()) };
}

export function fanOut(subscribers: number, size: number): LoadShape {
  const tag = `fo${subscribers}b${size}`;
  return {
    name: `fanout-1to${subscribers}-${sizeLabel(size)}`,
    description: `1 publisher, ${subscribers} subscribers on one topic, ${size} B payload, QoS 0, closed loop`,
    metrics: throughputMetrics,
    async setup(proto, endpoint) {
      const topic = 'bench/fanout';
      const subs = await openMany(subscribers, OPEN_CONCURRENCY, async (i) => {
        const conn = await proto.open(`${tag}s${i}`);
        await proto.subscribe(conn, topic, 0);
        return conn;
      });
      const pubs = await openMany(1, 1, () => proto.open(`${tag}p`)).catch(async (error: unknown) => { await closeAll(subs); throw error; });
      const frame = proto.publish(topic, payloadOf(size));
      const window = Math.max(1000, 32 * subscribers);
      return prepared([subs, pubs], (timing) => closedLoop({ pubs, frames: [frame], subs, fanout: subscribers, window, pid: endpoint.pid }, timing));
    },
  };
}

export function fanIn(publishers: number, size: number): LoadShape {
  const tag = `fi${publishers}b${size}`;
  return {
    name: `fanin-${publishers}to1-${sizeLabel(size)}`,
    description: `${publishers} publishers, 1 subscriber on one topic, ${size} B payload, QoS 0, closed loop`,
    metrics: throughputMetrics,
    async setup(proto, endpoint) {
      const topic = 'bench/fanin';
      const subs = await openMany(1, 1, async () => {
        const conn = await proto.open(`${tag}s`);
        await proto.subscribe(conn, topic, 0);
        return conn;
      });
      const pubs = await openMany(publishers, OPEN_CONCURRENCY, (i) => proto.open(`${tag}p${i}`)).catch(async (error: unknown) => { await closeAll(subs); throw error; });
      const frame = proto.publish(topic, payloadOf(size));
      return prepared([subs, pubs], (timing) => closedLoop({ pubs, frames: pubs.map(() => frame), subs, fanout: 1, window: 1000, pid: endpoint.pid }, timing));
    },
  };
}

export function pairs(count: number, size: number): LoadShape {
  const tag = `pp${count}b${size}`;
  return {
    name: `p2p-${count}pairs-${sizeLabel(size)}`,
    description: `${count} publisher→subscriber pairs (JMQT: #client channels; MQTT: one topic per subscriber), ${size} B payload, QoS 0, closed loop`,
    metrics: throughputMetrics,
    async setup(proto, endpoint) {
      const subs = await openMany(count, OPEN_CONCURRENCY, async (i) => {
        const conn = await proto.open(`${tag}s${i}`);
        if (proto.p2pNeedsSubscribe) await proto.subscribe(conn, proto.p2pTopic(`${tag}s${i}`), 0);
        return conn;
      });
      const pubs = await openMany(count, OPEN_CONCURRENCY, (i) => proto.open(`${tag}p${i}`)).catch(async (error: unknown) => { await closeAll(subs); throw error; });
      const frames = pubs.map((_, i) => proto.publish(proto.p2pTopic(`${tag}s${i}`), payloadOf(size)));
      return prepared([subs, pubs], (timing) => closedLoop({ pubs, frames, subs, fanout: 1, window: 1000, pid: endpoint.pid }, timing));
    },
  };
}

// ------------------------------------------------------------------ QoS 1

const PUSH_ID = /"id":("(?:[^"\\]|\\.)*"|-?\d+)/;

/** Acks every QoS 1 delivery a subscriber gets, one write per read. */
function ackDeliveries(proto: Proto, sub: Conn): void {
  let pending: Buffer[] = [];
  const flush = () => {
    if (pending.length > 0) sub.write(pending.length === 1 ? pending[0] : Buffer.concat(pending));
    pending = [];
  };
  sub.setHandler((frame, flags) => {
    if (pending.length === 0) queueMicrotask(flush);
    if (proto.kind === 'jmqt') {
      // JMQT: the push's id must be echoed, so this shape reads it (the dt is only 'x's).
      const match = PUSH_ID.exec(frame.toString('latin1'));
      if (match) pending.push(Buffer.from(`{"pushAck":{"id":${match[1]}}}\0`));
    } else if (((flags >> 1) & 3) === 1) {
      pending.push(mqtt.puback(mqtt.publishPacketId(frame)));
    }
  });
}

export function qos1(publishers: number, subscribers: number, size: number): LoadShape {
  const tag = `q1b${size}`;
  return {
    name: `qos1-${publishers}to${subscribers}-${sizeLabel(size)}`,
    description: `${publishers} publishers, ${subscribers} subscribers on one topic, QoS 1, subscribers ack every delivery, ${size} B payload, each publisher at most 10 unacknowledged`,
    metrics: throughputMetrics,
    async setup(proto, endpoint) {
      const topic = 'bench/qos1';
      const subs = await openMany(subscribers, OPEN_CONCURRENCY, async (i) => {
        const conn = await proto.open(`${tag}s${i}`);
        await proto.subscribe(conn, topic, 1);
        ackDeliveries(proto, conn);
        return conn;
      });
      const pubs = await openMany(publishers, OPEN_CONCURRENCY, (i) => proto.open(`${tag}p${i}`)).catch(async (error: unknown) => { await closeAll(subs); throw error; });
      const acked = new Array<number>(publishers).fill(0);
      let refused = 0;
      if (proto.kind === 'jmqt') {
        pubs.forEach((pub, i) => pub.setHandler((frame) => {
          acked[i]++;
          const text = frame.toString('latin1');
          if (!text.includes('"st":1,') && !text.includes('"st":1}')) refused++;
        }));
      }
      const ackedBy = (i: number) => (proto.kind === 'jmqt' ? acked[i] : pubs[i].pubacks);
      const payload = payloadOf(size);
      const templates = pubs.map(() => mqtt.publishQos1(topic, Buffer.from(payload)));
      const sent = new Array<number>(publishers).fill(0);
      const frameOf = (i: number): Buffer => {
        const seq = ++sent[i];
        if (proto.kind === 'jmqt') return Buffer.from(`{"pub":{"cn":"${topic}","dt":"${payload}","q":1,"id":"${i}-${seq}"}}\0`);
        const { frame, idOffset } = templates[i];
        const copy = Buffer.from(frame);
        copy.writeUInt16BE((seq % 65535) + 1, idOffset);
        return copy;
      };
      const run = async (timing: Timing): Promise<Figures> => {
        const inFlight = 10;
        const window = 100 * subscribers;
        const base = sumReceived(subs);
        const ackBase = pubs.map((_, i) => ackedBy(i));
        const sentBase = [...sent];
        const delivered = () => sumReceived(subs) - base;
        const acks = () => pubs.reduce((total, _, i) => total + ackedBy(i) - ackBase[i], 0);
        let running = true;
        let scheduled = false;
        let nextPublisher = 0;
        const pump = () => {
          scheduled = false;
          if (!running) return;
          const totalSent = sent.reduce((a, b, i) => a + b - sentBase[i], 0);
          let room = Math.floor((window - (totalSent * subscribers - delivered())) / subscribers);
          // Round robin, one message at a time, starting where the last pump stopped.
          const batches: Buffer[][] = pubs.map(() => []);
          let idle = 0;
          while (room > 0 && idle < publishers) {
            const i = nextPublisher;
            nextPublisher = (nextPublisher + 1) % publishers;
            if (sent[i] - sentBase[i] - (ackedBy(i) - ackBase[i]) >= inFlight) {
              idle++;
              continue;
            }
            idle = 0;
            batches[i].push(frameOf(i));
            room--;
          }
          batches.forEach((frames, i) => {
            if (frames.length > 0) pubs[i].write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
          });
        };
        const schedule = () => {
          if (!scheduled) {
            scheduled = true;
            setImmediate(pump);
          }
        };
        for (const conn of [...subs, ...pubs]) conn.socket.on('data', schedule);
        const ticker = setInterval(schedule, 5);
        try {
          schedule();
          await sleep(timing.warmupMs);
          const start = { at: performance.now(), delivered: delivered(), acks: acks(), cpu: cpuSeconds(endpoint.pid), refused };
          await sleep(timing.durationMs);
          const seconds = (performance.now() - start.at) / 1000;
          const end = { delivered: delivered(), acks: acks(), cpu: cpuSeconds(endpoint.pid), refused };
          running = false;
          const totalSent = () => sent.reduce((a, b, i) => a + b - sentBase[i], 0);
          await drain(() => delivered() >= totalSent() * subscribers && acks() >= totalSent(), () => delivered() + acks());
          return {
            deliveries: (end.delivered - start.delivered) / seconds,
            publishes: (end.acks - start.acks) / seconds,
            lost: Math.max(0, totalSent() * subscribers - delivered()),
            unacked: Math.max(0, totalSent() - acks()),
            refused: end.refused - start.refused,
            brokerCpu: (100 * (end.cpu - start.cpu)) / seconds,
          };
        } finally {
          running = false;
          clearInterval(ticker);
          for (const conn of [...subs, ...pubs]) conn.socket.off('data', schedule);
        }
      };
      return prepared([subs, pubs], run);
    },
  };
}
