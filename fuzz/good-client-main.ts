/**
 * Entry point of the good client's own process (forked by
 * good-client-process.ts): runs GoodClient with the ports given as the first
 * argument (JSON), reports to the parent over IPC every second, and on
 * `finish` waits for deliveries and sends its final report.
 */
import type { BrokerPorts } from './broker-process';
import { GoodClient } from './good-client';
import type { ToGoodClient, FromGoodClient } from './good-client-process';

const ports = JSON.parse(process.argv[2] ?? '{}') as BrokerPorts;
const send = (message: FromGoodClient) => {
  if (process.connected) process.send?.(message);
};
const client = new GoodClient(ports);

client.start().then(
  () => {
    send({ type: 'ready' });
    const timer = setInterval(() => send({ type: 'report', report: client.report() }), 1000);
    process.on('message', (message: ToGoodClient) => {
      if (message.type !== 'finish') return;
      clearInterval(timer);
      client.finish(message.graceMs).then((report) => {
        send({ type: 'final', report });
        process.disconnect?.();
        setTimeout(() => process.exit(0), 100).unref();
      });
    });
  },
  (error: Error) => {
    send({ type: 'failed', error: error.message });
    setTimeout(() => process.exit(1), 100).unref();
  },
);
process.on('disconnect', () => setTimeout(() => process.exit(0), 2000).unref());
