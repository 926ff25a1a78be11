/**
 * The original sample socket client (protocol 9.4) as a Node CLI:
 *
 *   tsx cli/sample-client.ts [--host H] [--port P] [--tls [--insecure]] [--name pyclient1]
 *
 * auth with {client_name}, conn, persistent sub to `mychannel`, publish the
 * current time there every 10 s (QoS 1, retain on), log every push. While the
 * broker is away it retries every 10 s (the SDK's reconnect re-runs auth and conn).
 */
import { parseArgs } from 'node:util';
import { JmqtClient, JmqtError, Status, statusName } from '../shared/client/index';
import { NodeSocketTransport } from '../shared/client/node/index';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: 'localhost' },
    port: { type: 'string' }, // default 8010, or 8012 with --tls (protocol 1.1)
    tls: { type: 'boolean', default: false },
    insecure: { type: 'boolean', default: false }, // accept a self-signed broker certificate
    name: { type: 'string', default: 'pyclient1' },
  },
});

const CHANNEL = 'mychannel';
const EVERY_MS = 10_000;
const log = (text: string) => console.log(`${new Date().toISOString()} ${text}`);

const transport = new NodeSocketTransport({
  host: args.host,
  port: args.port === undefined ? undefined : Number(args.port),
  tls: args.tls && { rejectUnauthorized: !args.insecure },
});
// Fixed 10 s between attempts, as the original client did.
const client = new JmqtClient(transport, { reconnect: { initialDelayMs: EVERY_MS, maxDelayMs: EVERY_MS, jitter: 0 } });

client.on('push', ({ channel, sender, data, qos, retained }) => {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  console.log(`Data on '${channel}' from ${sender} : ${text} (QOS ${qos}, RETAIN ${retained ? 1 : 0})`);
});
client.on('disconnect', ({ reason, willReconnect }) => log(`disconnected: ${reason}${willReconnect ? ', retrying every 10 s' : ''}`));
client.on('state', ({ state }) => {
  if (state !== 'session') return;
  log(`session open as ${client.clientId}`);
  // Persistent subscriptions outlive the session (protocol 5.9), but the first session must make it.
  client.sub(CHANNEL, true).then(
    (answer) => log(`sub ${CHANNEL}: ${statusName(answer.status)}`),
    (error: Error) => log(`sub ${CHANNEL}: ${error.message}`),
  );
});

async function start(): Promise<void> {
  const auth = await client.auth({ client_name: args.name });
  if (auth.status !== Status.OK || !auth.clientId || !auth.token) throw new Error(`auth refused: ${statusName(auth.status)} ${auth.message ?? ''}`);
  const conn = await client.conn(auth.clientId, auth.token);
  if (conn.status !== Status.OK) throw new Error(`conn refused: ${statusName(conn.status)}`);
}

start().catch((error: Error) => {
  log(error.message);
  // A refusal is final; an unreachable broker is retried by the client's reconnect,
  // and a silent one is dropped so that reconnect takes over.
  if (!(error instanceof JmqtError)) process.exit(1);
  if (error.code === 'timeout') client.transport.close('no answer from the broker');
});

setInterval(() => {
  if (client.state !== 'session') return;
  client.pub(CHANNEL, new Date().toISOString(), { qos: 1, retain: true }).then(
    (answer) => answer.status !== Status.OK && log(`pub refused: ${statusName(answer.status)}`),
    (error: Error) => log(`pub: ${error.message}`),
  );
}, EVERY_MS);

process.once('SIGINT', () => void client.disconnect().finally(() => process.exit(0)));
