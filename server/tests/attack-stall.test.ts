/**
 * Attacks that used to stall other clients or lose their messages, proved
 * fixed against `npm run server` in a child process with the default limits
 * (SQLITE_SYNC included: `full`, one fsync per commit): a retained QoS 0
 * flood (finding 8), a publisher over the publish rate, and a subscriber that
 * reads too slowly.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../config';
import { ChildBroker, connectPeer, HbProbeProcess, mib, MiB, until } from '../testing/attack-tools';

/** OUTBOUND_BUFFER_BYTES default. */
const OUTBOUND_CAP = 8 * MiB;

describe('attack: stalls and losses', () => {
  it('finding 8: a flood of retained QoS 0 pubs (two seconds\' worth of the publish budget): another client\'s hb round trip stays low, every channel keeps its last value', { timeout: 40_000 }, async () => {
    const broker = await ChildBroker.start();
    try {
      const flooder = await connectPeer(broker.ports.tcp, 'flooder', 'tcp', { keep: false });
      // 100,000 with today's default of 50,000 a second: one second's worth at once, then throttled.
      const TOTAL = 2 * defaultConfig().PUBLISH_RATE_MESSAGES;
      const CHANNELS = 2_000;
      const writes: Buffer[] = [];
      for (let start = 0; start < TOTAL; start += 2000) {
        let text = '';
        for (let n = start; n < start + 2000; n++) text += `{"pub":{"cn":"r/${n % CHANNELS}","dt":${n},"rt":1}}\0`;
        writes.push(Buffer.from(text));
      }
      const probe = await HbProbeProcess.start(broker.ports.tcp, 'good', 10);
      const started = performance.now();
      // In one write: the broker finds as much of it in its socket as the kernel holds.
      flooder.socket.write(Buffer.concat(writes));
      // Handled in order: once the hb after the last pub is answered, every pub was.
      await flooder.barrier(30_000);
      const floodMs = performance.now() - started;
      const hb = await probe.stop();
      const stats = await broker.stats();
      const retained = await broker.api<{ retained: Array<{ channel: string; data: number }> }>('/api/retained');
      const last = new Map(retained.retained.map(({ channel, data }) => [channel, data]));
      process.stdout.write(`# finding 8: ${TOTAL} retained QoS 0 pubs on ${CHANNELS} channels handled in ${Math.round(floodMs)} ms; hb ${hb.count}× p50 ${hb.p50.toFixed(1)} ms, p99 ${hb.p99.toFixed(1)} ms, max ${hb.max.toFixed(1)} ms; retained ${stats.retained}\n`);
      assert.ok(hb.p99 < 200, `hb p99 ${hb.p99.toFixed(1)} ms during the flood`);
      // One client's flood must not hold another's packets (protocol 11.3: yield every 64 frames).
      // (Not lower: with SQLITE_SYNC = full, a commit's fsync blocks the loop, and this disk's fsyncs spike.)
      assert.ok(hb.max < 1000, `hb max ${hb.max.toFixed(1)} ms during the flood`);
      assert.ok(hb.count >= 20, `hb samples: ${hb.count}`);
      assert.equal(stats.retained, CHANNELS);
      for (let c = 0; c < CHANNELS; c++) assert.equal(last.get(`r/${c}`), TOTAL - CHANNELS + c, `r/${c} keeps its last value`);
      assert.ok(broker.alive);
      flooder.destroy();
    } finally {
      await broker.stop();
    }
  });

  it('PUBLISH_RATE_MESSAGES: a client sending 2.5 seconds\' worth of small QoS 0 pubs goes no faster than the default rate, and a subscriber gets them all in order', { timeout: 30_000 }, async () => {
    // The default, whatever it is now (20,000 when this was written, 50,000 now): the bucket starts
    // full with one second's worth, so 2.5 seconds' worth cannot get through in less than 1.5 s.
    const RATE = defaultConfig().PUBLISH_RATE_MESSAGES;
    const TOTAL = Math.round(2.5 * RATE);
    const broker = await ChildBroker.start();
    try {
      const received: number[] = [];
      const subscriber = await connectPeer(broker.ports.tcp, 'rate-sub', 'tcp', {
        keep: false,
        onPacket: ({ push }) => { if (push?.['cn'] === 'rate') received.push(push['dt'] as number); },
      });
      await subscriber.request({ sub: { cn: 'rate', pr: 0 } }, 'subAck', { st: 1 });
      const publisher = await connectPeer(broker.ports.tcp, 'rate-pub', 'tcp', { keep: false });
      let text = '';
      for (let n = 0; n < TOTAL; n++) text += `{"pub":{"cn":"rate","dt":${n}}}\0`;
      const flood = Buffer.from(text);
      const probe = await HbProbeProcess.start(broker.ports.tcp, 'bystander');
      const started = performance.now();
      publisher.socket.write(flood);
      await until(() => received.length >= TOTAL, 20_000, `all ${TOTAL} pushes (got ${received.length})`);
      const elapsed = performance.now() - started;
      await publisher.barrier();
      await subscriber.barrier();
      const hb = await probe.stop();
      const stats = await broker.stats();
      process.stdout.write(`# publish rate, messages (${RATE}/s): ${TOTAL} pubs delivered in ${Math.round(elapsed)} ms (${Math.round(TOTAL / (elapsed / 1000))}/s); throttledClients ${stats.counters.throttledClients}, droppedPushes ${stats.counters.droppedPushes}; bystander hb p99 ${hb.p99.toFixed(1)} ms, max ${hb.max.toFixed(1)} ms\n`);
      assert.equal(received.length, TOTAL, 'nothing lost, nothing twice');
      assert.ok(received.every((n, i) => n === i), 'in order');
      assert.equal(stats.counters.droppedPushes, 0);
      assert.ok(elapsed >= 1300, `${TOTAL} pubs took only ${Math.round(elapsed)} ms: not held to ${RATE}/s`);
      // throttledClients is only reported: a broker on a busy machine may handle small pubs no faster
      // than the budget refills, and is then rightly never throttled (the next test asserts it).
      // The bystander's hb is only reported too: finding 8 asserts it.
      for (const peer of [subscriber, publisher]) peer.destroy();
    } finally {
      await broker.stop();
    }
  });

  it('PUBLISH_RATE_BYTES: 2.5 seconds\' worth of 64 KiB QoS 0 pubs are throttled: at most the default rate, throttledClients counted', { timeout: 30_000 }, async () => {
    // To a channel nobody holds: then the broker only parses them, far faster than 32 MiB/s on any
    // machine, so the budget and nothing else sets the pace.
    const RATE = defaultConfig().PUBLISH_RATE_BYTES;
    const pad = 'b'.repeat(64 * 1024);
    const pub = (n: number) => `{"pub":{"cn":"nobody","dt":{"n":${n},"p":"${pad}"}}}\0`;
    const TOTAL = Math.ceil((2.5 * RATE) / pub(0).length);
    const broker = await ChildBroker.start();
    try {
      const publisher = await connectPeer(broker.ports.tcp, 'bytes-pub', 'tcp', { keep: false });
      const flood = Buffer.from(Array.from({ length: TOTAL }, (_unused, n) => pub(n)).join(''));
      const started = performance.now();
      publisher.socket.write(flood);
      // Handled in order: the hb after the last pub is answered once every pub was.
      await publisher.barrier(20_000);
      const elapsed = performance.now() - started;
      const stats = await broker.stats();
      process.stdout.write(`# publish rate, bytes (${mib(RATE)} MiB/s): ${TOTAL} pubs, ${mib(flood.length)} MiB, handled in ${Math.round(elapsed)} ms (${mib(flood.length / (elapsed / 1000))} MiB/s); throttledClients ${stats.counters.throttledClients}\n`);
      assert.ok(elapsed >= 1300, `${mib(flood.length)} MiB took only ${Math.round(elapsed)} ms: not held to ${mib(RATE)} MiB/s`);
      assert.ok(stats.counters.throttledClients > 0, 'the publisher was throttled');
      assert.ok((stats.counters.limitHits['PUBLISH_RATE_MESSAGES'] ?? 0) > 0, 'and the limit hit counted (under PUBLISH_RATE_MESSAGES, for both budgets)');
      assert.ok(stats.counters.messagesIn >= TOTAL, `every pub was handled: messagesIn ${stats.counters.messagesIn}`);
      publisher.destroy();
    } finally {
      await broker.stop();
    }
  });

  it('a subscriber that stops reading: its QoS 0 pushes are dropped and counted, QoS 1 deferred to its next session; a healthy one gets all', { timeout: 40_000 }, async () => {
    const broker = await ChildBroker.start();
    try {
      const healthyGot: number[] = [];
      const frozenGot: number[] = [];
      const pick = (into: number[]) => ({ push }: Record<string, Record<string, unknown>>) => {
        if (push?.['cn'] === 'fire' && typeof push['dt'] === 'object') into.push((push['dt'] as { n: number }).n);
      };
      const frozen = await connectPeer(broker.ports.tcp, 'frozen', 'tcp', { onPacket: pick(frozenGot) });
      const healthy = await connectPeer(broker.ports.tcp, 'healthy', 'tcp', { onPacket: pick(healthyGot) });
      for (const peer of [frozen, healthy]) await peer.request({ sub: { cn: 'fire', pr: 1 } }, 'subAck', { st: 1 });
      const publisher = await connectPeer(broker.ports.tcp, 'firehose', 'tcp', { keep: false });
      frozen.pause();
      // 30,000 pushes of 1 KB: 30 MB to the frozen one, past socket buffers and the 8 MiB cap.
      const TOTAL = 30_000;
      const pad = 'f'.repeat(1000);
      for (let sent = 0; sent < TOTAL; sent += 500) {
        let text = '';
        for (let n = sent; n < sent + 500; n++) text += `{"pub":{"cn":"fire","dt":{"n":${n},"pad":"${pad}"}}}\0`;
        publisher.socket.write(text);
        // The publisher stays at most 2,000 ahead of the healthy subscriber (2 MB, under its cap).
        await until(() => healthyGot.length >= sent + 500 - 2000, 10_000, 'the healthy subscriber keeping up');
      }
      await until(() => healthyGot.length >= TOTAL, 10_000, `the healthy subscriber's ${TOTAL} pushes (got ${healthyGot.length})`);
      const frozenOutbound = (await broker.outboundBytesOf('frozen')) ?? -1;
      // Still frozen: a QoS 1 message now is deferred for it (stored, not written), pushed to the healthy one.
      const qos1 = healthy.next('push', { cn: 'fire', dt: 'q1' });
      assert.equal((await publisher.request({ pub: { cn: 'fire', dt: 'q1', q: 1, id: 'q1' } }, 'pubAck', { id: 'q1' }))['st'], 1);
      await qos1;
      const stats = await broker.stats();
      const dropped = stats.counters.droppedPushes;
      // Reading again: what was buffered comes, then the hbAck (answers are never dropped).
      frozen.resume();
      await frozen.barrier(15_000);
      process.stdout.write(`# slow consumer: healthy got ${healthyGot.length}/${TOTAL}; frozen outbound ${mib(frozenOutbound)} MiB, got ${frozenGot.length}, dropped ${dropped}, deferred ${stats.counters.deferredPushes}\n`);
      assert.deepEqual(healthyGot, Array.from({ length: TOTAL }, (_unused, n) => n), 'the healthy subscriber got every push, in order');
      assert.ok(frozenOutbound >= 0 && frozenOutbound <= OUTBOUND_CAP + 1100, `frozen outbound buffer ${frozenOutbound} bytes: at most the cap and one push`);
      assert.ok(dropped > 0, 'pushes to the frozen one were dropped');
      assert.equal(frozenGot.length + dropped, TOTAL, 'every push to the frozen one was either written or counted as dropped');
      assert.ok(frozenGot.every((n, i) => i === 0 || n > frozenGot[i - 1]!), 'what the frozen one got is in order, without duplicates');
      assert.equal(stats.counters.deferredPushes, 1, 'the QoS 1 push was deferred');
      assert.equal(frozen.all('push').filter((push) => push['dt'] === 'q1').length, 0, 'and not written in this session');
      // Its next session gets the deferred QoS 1 copy from storage.
      frozen.send({ disconn: {} });
      await frozen.waitClosed();
      const back = await connectPeer(broker.ports.tcp, 'frozen');
      const replayed = await back.seen('push', { cn: 'fire', dt: 'q1' });
      assert.equal(typeof replayed['id'], 'string');
      assert.ok(broker.alive);
      for (const peer of [back, healthy, publisher]) peer.destroy();
    } finally {
      await broker.stop();
    }
  });
});
