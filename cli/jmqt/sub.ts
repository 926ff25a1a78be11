/**
 * `jmqt sub`: subscribes to one or more channels and prints one line per push
 * until -n messages came, --timeout seconds passed, or Ctrl-C. The SDK
 * acknowledges each QoS 1 push as it arrives; pushes past -n are not
 * acknowledged (the connection is dropped before the SDK acks them), so a
 * persistent subscription keeps them for the next session.
 */
import { normaliseChannel } from '../../shared/channel';
import type { PushEvent } from '../../shared/client/index';
import { authDataFrom, connectionHelp, connectionOptions, createClient, openSession, subscribeOrFail, targetFrom } from './connection';
import { CliError, ExitCode, fromSdkError, usageError } from './errors';
import { intFlag, parseFlags, secondsFlag } from './flags';
import { pushJson, pushLine } from './push-format';

export const subHelp = `usage: jmqt sub -c CHANNEL [-c CHANNEL ...] [--persistent] [-n COUNT] [--timeout S] [--json] [connection flags]

Subscribes and prints one line per push: \`channel sender data\` (sender -
when the server published; string data as it is), or with --json one object
per line {channel, sender, data, qos, retained, id}. QoS 1 pushes are
acknowledged. Only pushes on the -c channels are shown, unless --all.

  -c, --channel CHANNEL  channel to subscribe to; repeat for more
      --persistent       keep the subscriptions after this session (QoS 1 copies wait for the next one)
  -n, --count COUNT      exit 0 after COUNT messages
      --timeout S        exit after S seconds: 0 without -n, 4 when fewer than COUNT came
      --all              also show pushes on other channels (presence on \`update\`, P2P to this client)
      --json             JSON lines
  -v, --verbose          say on standard error when the session is open and each subscription made
      --help             this text

${connectionHelp}

exit codes: 0 done, 1 a subscription refused, 2 bad flags, 3 broker unreachable or connection lost, 4 timeout before COUNT messages`;

const options = {
  ...connectionOptions,
  channel: { type: 'string', short: 'c', multiple: true },
  persistent: { type: 'boolean', default: false },
  count: { type: 'string', short: 'n' },
  timeout: { type: 'string' },
  all: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', short: 'v', default: false },
  help: { type: 'boolean', default: false },
} as const;

/** How long a request (auth, conn, sub) may wait: the SDK's default, or less when --timeout is shorter. */
const REQUEST_TIMEOUT_MS = 10_000;

export async function sub(args: string[]): Promise<number> {
  const { values } = parseFlags(options, args);
  if (values.help) {
    process.stdout.write(subHelp + '\n');
    return ExitCode.OK;
  }
  const channels = (values.channel ?? []).map((raw) => {
    const name = normaliseChannel(raw);
    if (name === null) throw usageError(`-c, --channel: '${raw}' is no channel name`);
    return name;
  });
  if (channels.length === 0) throw usageError('-c, --channel is required');
  const count = values.count === undefined ? undefined : intFlag('-n, --count', values.count, 1, Number.MAX_SAFE_INTEGER);
  const timeoutMs = values.timeout === undefined ? undefined : secondsFlag('--timeout', values.timeout) * 1000;
  const target = targetFrom(values);
  const authData = authDataFrom(values);
  const shown = new Set(channels);

  const client = createClient(target, Math.min(REQUEST_TIMEOUT_MS, timeoutMs ?? REQUEST_TIMEOUT_MS));
  let received = 0;
  /** -n messages printed: the session ends, later pushes are not acknowledged. */
  let counted = false;
  let ending = false;
  return new Promise<number>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const end = (result: number | CliError) => {
      if (ending) return;
      ending = true;
      clearTimeout(timer);
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      client.disconnect().catch(() => undefined).then(() => (typeof result === 'number' ? resolve(result) : reject(result)));
    };
    const interrupted = () => end(ExitCode.OK);
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (count === undefined || counted) end(ExitCode.OK);
        else end(new CliError(`timeout: ${received} of ${count} messages in ${timeoutMs / 1000} s`, ExitCode.TIMEOUT));
      }, timeoutMs);
    }

    // Before conn: stored QoS 1 copies come right after connAck (protocol 5.5).
    client.on('push', (push: PushEvent) => {
      if (counted || ending) {
        // Past -n: drop the connection before the SDK acknowledges this push, so that it stays stored.
        client.transport.close('jmqt sub: count reached');
        return;
      }
      if (!values.all && !shown.has(push.channel)) return;
      process.stdout.write((values.json ? pushJson(push) : pushLine(push)) + '\n');
      received += 1;
      // After this listener the SDK acknowledges the push; then the session ends.
      if (count !== undefined && received >= count) {
        counted = true;
        setImmediate(() => end(ExitCode.OK));
      }
    });
    client.on('disconnect', ({ reason }) => {
      if (!counted) end(new CliError(`connection lost: ${reason}`, ExitCode.NETWORK));
    });

    (async () => {
      const clientId = await openSession(client, target, authData);
      if (values.verbose) process.stderr.write(`jmqt sub: connected to ${target.url} as ${clientId}\n`);
      for (const channel of channels) {
        // Stored QoS 1 copies come right after connAck and may reach -n before every sub is made.
        if (counted || ending) return;
        await subscribeOrFail(client, channel, values.persistent);
        if (values.verbose) process.stderr.write(`jmqt sub: subscribed to ${channel}${values.persistent ? ' (persistent)' : ''}\n`);
      }
    })().catch((error: unknown) => {
      // Past -n the connection is dropped on purpose: a request it broke is no failure.
      if (!counted) end(error instanceof CliError ? error : fromSdkError(error, 'sub'));
    });
  });
}
