/**
 * Memory per idle session: a fresh broker child, its RSS before, `count`
 * sessions opened (JMQT: auth + conn over TCP or WebSocket; MQTT: CONNECT
 * with keep-alive 0), a pause, its RSS after. (after − before) / count.
 */
import WebSocket from 'ws';
import { closeAll, openMany, protoFor, type BrokerKind, type Conn } from './clients';
import { rssBytes, startBroker, type RunningBroker } from './brokers';
import type { Figures } from './load';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const OPEN_CONCURRENCY = 100;
const SETTLE_MS = 1500;

export type MemoryVariant = 'jmqt-tcp' | 'jmqt-ws' | 'mosquitto' | 'aedes';

export const memoryVariants: Array<{ variant: MemoryVariant; kind: BrokerKind; transport: 'tcp' | 'ws' }> = [
  { variant: 'jmqt-tcp', kind: 'jmqt', transport: 'tcp' },
  { variant: 'jmqt-ws', kind: 'jmqt', transport: 'ws' },
  { variant: 'mosquitto', kind: 'mosquitto', transport: 'tcp' },
  { variant: 'aedes', kind: 'aedes', transport: 'tcp' },
];

/** A JMQT session over a WebSocket (one packet per text message). */
function openWebSocket(port: number, clientId: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`WebSocket session ${clientId}: no connAck within 15 s`)); }, 15_000);
    ws.once('error', (error) => { clearTimeout(timer); reject(error); });
    ws.once('open', () => ws.send(JSON.stringify({ auth: { dt: { client_name: clientId } } })));
    ws.on('message', (data) => {
      const packet = JSON.parse(String(data)) as Record<string, Record<string, unknown>>;
      if (packet['authAck']) {
        if (packet['authAck']['st'] !== 1) return reject(new Error(`auth failed: ${String(data)}`));
        ws.send(JSON.stringify({ conn: { at: packet['authAck']['at'], cl: clientId } }));
      } else if (packet['connAck']) {
        clearTimeout(timer);
        ws.removeAllListeners('message');
        ws.on('error', () => undefined);
        if (packet['connAck']['st'] !== 1) return reject(new Error(`conn failed: ${String(data)}`));
        resolve({
          socket: null as never,
          pubacks: 0,
          received: () => 0,
          setHandler: () => undefined,
          write: () => true,
          close: () => new Promise<void>((done) => {
            if (ws.readyState === WebSocket.CLOSED) return done();
            ws.once('close', () => done());
            ws.close();
            setTimeout(() => { ws.terminate(); done(); }, 1000).unref();
          }),
        });
      }
    });
  });
}

export async function measureMemory(variant: MemoryVariant, count: number, onBroker: (broker: RunningBroker) => void): Promise<Figures> {
  const spec = memoryVariants.find((entry) => entry.variant === variant)!;
  const broker = await startBroker(spec.kind);
  onBroker(broker);
  let conns: Conn[] = [];
  try {
    const proto = protoFor(broker);
    await sleep(SETTLE_MS);
    const before = rssBytes(broker.pid);
    const opening = performance.now();
    conns = await openMany(count, OPEN_CONCURRENCY, (i) => {
      const clientId = `idle${i}`;
      return spec.transport === 'ws' ? openWebSocket(broker.wsPort!, clientId) : proto.open(clientId);
    });
    const openSeconds = (performance.now() - opening) / 1000;
    await sleep(SETTLE_MS);
    const after = rssBytes(broker.pid);
    return {
      perConnKiB: (after - before) / count / 1024,
      rssBeforeMiB: before / 2 ** 20,
      rssAfterMiB: after / 2 ** 20,
      connectsPerSecond: count / openSeconds,
      sessions: count,
    };
  } finally {
    // Broker first: ending 10k sessions one by one would only cost time.
    await broker.stop();
    await closeAll(conns);
  }
}
