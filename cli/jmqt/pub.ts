/**
 * `jmqt pub`: one message, then the pubAck status by name. QoS 0 pubs to a
 * normal channel get no pubAck when accepted (protocol 7.2), so the pub
 * carries an id (a refusal then comes back) and is followed by a
 * `$mySubscriptions` request: the broker answers a connection's requests in
 * order (protocol 5.7), so once that answer is in, a refusal would have been too.
 */
import { randomBytes } from 'node:crypto';
import { channelKind, normaliseChannel } from '../../shared/channel';
import { Status, statusName, type JmqtClient, type Json, type PubAnswer } from '../../shared/client/index';
import { connectionHelp, connectionOptions, createClient, authDataFrom, openSession, targetFrom } from './connection';
import { ExitCode, fromSdkError, usageError } from './errors';
import { jsonFlag, parseFlags, qosFlag, required, secondsFlag } from './flags';

export const pubHelp = `usage: jmqt pub -c CHANNEL -m MESSAGE [-q 0|1] [-r] [--json] [connection flags]

Publishes one message and prints the broker's answer by status name (OK,
NOT_ALLOWED, CLIENT_OFFLINE, ...), and a $ channel's answer data after it.
Exits 0 when the answer is OK, 1 when the pub is refused.

  -c, --channel CHANNEL  channel to publish to (#client for P2P, $name for a request)
  -m, --message TEXT     the message: a string, or JSON with --json
  -q, --qos 0|1          0 at most once (default), 1 stored until acknowledged
  -r, --retain           keep it as the channel's retained message
      --json             -m is JSON ('{"a":1}', 42, null); the answer is printed as JSON
      --timeout S        seconds to wait for the broker (default 10)
      --help             this text

${connectionHelp}

exit codes: 0 OK, 1 refused, 2 bad flags, 3 broker unreachable, 4 no answer in time`;

const options = {
  ...connectionOptions,
  channel: { type: 'string', short: 'c' },
  message: { type: 'string', short: 'm' },
  qos: { type: 'string', short: 'q', default: '0' },
  retain: { type: 'boolean', short: 'r', default: false },
  json: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '10' },
  help: { type: 'boolean', default: false },
} as const;

/** A QoS 0 pub to a normal channel: OK unless a refusal arrives before the answer to a later request. */
async function publishUnanswered(client: JmqtClient, channel: string, data: Json, retain: boolean): Promise<PubAnswer> {
  const id = `jmqt-${randomBytes(6).toString('hex')}`;
  let refusal: PubAnswer | null = null;
  const onPubAck = (answer: { status: number; id: string }) => {
    if (answer.id === id) refusal = answer;
  };
  client.on('pubAck', onPubAck);
  try {
    await client.pub(channel, data, { qos: 0, retain, id });
    await client.pub('$mySubscriptions', {});
  } finally {
    client.off('pubAck', onPubAck);
  }
  return refusal ?? { status: Status.OK, id };
}

export async function pub(args: string[]): Promise<number> {
  const { values } = parseFlags(options, args);
  if (values.help) {
    process.stdout.write(pubHelp + '\n');
    return ExitCode.OK;
  }
  const channel = required('-c, --channel', values.channel);
  const name = normaliseChannel(channel);
  if (name === null) throw usageError(`-c, --channel: '${channel}' is no channel name`);
  const message = required('-m, --message', values.message);
  const data = (values.json ? jsonFlag('-m, --message', message) : message) as Json;
  const qos = qosFlag(values.qos);
  const timeoutMs = secondsFlag('--timeout', values.timeout) * 1000;
  const target = targetFrom(values);
  const authData = authDataFrom(values);

  const client = createClient(target, timeoutMs);
  try {
    await openSession(client, target, authData);
    let answer: PubAnswer;
    try {
      answer = qos === 0 && channelKind(name) !== 'control'
        ? await publishUnanswered(client, name, data, values.retain)
        : await client.pub(name, data, { qos, retain: values.retain });
    } catch (error) {
      throw fromSdkError(error, 'pub');
    }
    if (values.json) {
      process.stdout.write(JSON.stringify({ status: answer.status, name: statusName(answer.status), id: answer.id, data: answer.data }) + '\n');
    } else {
      process.stdout.write(statusName(answer.status) + (answer.data === undefined ? '' : ` ${JSON.stringify(answer.data)}`) + '\n');
    }
    return answer.status === Status.OK ? ExitCode.OK : ExitCode.REFUSED;
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}
