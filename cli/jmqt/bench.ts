/**
 * `jmqt bench pub|sub|conn`: load like `mqttx bench`: clients opened at a
 * pace, a live progress line, Ctrl-C ends a run early, a summary at the end.
 */
import { benchConn } from './bench-conn';
import { benchPub } from './bench-pub';
import { benchSub } from './bench-sub';
import { ExitCode, usageError } from './errors';

export const benchHelp = `usage: jmqt bench pub|sub|conn [flags]

Load for a broker, like mqttx bench, with a live progress line on standard
error and a summary on standard output (--json: one JSON object).

  jmqt bench pub    clients publish to one channel; rate, pubAck latency (QoS 1), refusals, errors
  jmqt bench sub    clients subscribe to one channel; receive rate, publish-to-push latency
                    (from the 'ts' that bench pub puts in each message)
  jmqt bench conn   clients connect (auth + conn); connect rate and latency, failures

jmqt bench pub|sub|conn --help shows each one's flags.`;

export async function bench(args: string[]): Promise<number> {
  const [mode, ...rest] = args;
  if (mode === undefined || mode === '--help' || mode === 'help') {
    (mode === undefined ? process.stderr : process.stdout).write(benchHelp + '\n');
    return mode === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  switch (mode) {
    case 'pub': return benchPub(rest);
    case 'sub': return benchSub(rest);
    case 'conn': return benchConn(rest);
    default: throw usageError(`unknown bench '${mode}': pub, sub or conn`);
  }
}
