import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestBroker, waitFor } from '../testing/harness';

describe('a slow subscriber stalls no one and grows no memory without bound', () => {
  it('drops QoS 0 pushes to the frozen one, keeps the others at full rate, then disconnects it', async () => {
    const broker = await startTestBroker({ OUTBOUND_BUFFER_BYTES: 256 * 1024, SLOW_CONSUMER_SECONDS: 2, TIMEOUT_SECONDS: 60 });
    try {
      const frozen = await connectClient(broker, 'frozen');
      const healthy = await connectClient(broker, 'healthy');
      const publisher = await connectClient(broker, 'firehose');
      for (const client of [frozen, healthy]) await client.request({ sub: { cn: 'fire', pr: 0 } }, 'subAck', { st: 1 });
      frozen.rawSocket!.pause();
      const payload = 'x'.repeat(1024);
      const fires = () => healthy.all('push').filter((push) => push['cn'] === 'fire').length;
      const rssBefore = process.memoryUsage().rss;
      const total = 40_000; // 40 MiB to the frozen one: far past socket buffers and the cap
      let sent = 0;
      while (sent < total) {
        for (let i = 0; i < 500; i++) publisher.send({ pub: { cn: 'fire', dt: payload } });
        sent += 500;
        // Let the healthy subscriber read; the publisher stays just ahead of it.
        await waitFor(() => fires() >= sent - 2000, 'the healthy subscriber to catch up', 10_000);
      }
      await waitFor(() => fires() >= total, 'every message at the healthy subscriber', 10_000);
      assert.equal(fires(), total, 'the healthy subscriber got every message');
      assert.ok(broker.broker.counters.droppedPushes > 0, 'pushes to the frozen one were dropped');
      const session = broker.broker.sessions.get('frozen');
      assert.ok(!session || session.bufferedBytes <= 2 * 1024 * 1024, `outbound buffer bounded: ${session?.bufferedBytes}`);
      const growth = process.memoryUsage().rss - rssBefore;
      assert.ok(growth < 200 * 1024 * 1024, `RSS grew ${Math.round(growth / 1048576)} MiB`);
      // Still frozen: the broker ends it once it stayed over the cap for SLOW_CONSUMER_SECONDS.
      await waitFor(() => !broker.broker.isConnected('frozen'), 'the slow consumer to be disconnected', 6000);
      frozen.rawSocket!.resume();
      await frozen.waitClosed(6000);
      assert.equal(broker.broker.counters.limitHits['SLOW_CONSUMER_SECONDS'], 1);
      process.stdout.write(`# slow consumer: ${broker.broker.counters.droppedPushes} pushes dropped, RSS +${Math.round(growth / 1048576)} MiB\n`);
      healthy.close();
      publisher.close();
    } finally {
      await broker.destroy();
    }
  });
});
