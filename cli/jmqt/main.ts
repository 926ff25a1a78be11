/**
 * `jmqt`, the command line client of the broker (package.json `bin`, through
 * bin.mjs): `jmqt pub`, `jmqt sub`, `jmqt bench pub|sub|conn`, `jmqt passwd`.
 * Each command answers its exit code or throws a CliError, printed here as
 * one line: `jmqt <command>: <what went wrong>`.
 */
import { bench } from './bench';
import { CliError, ExitCode } from './errors';
import { passwd } from './passwd';
import { pub } from './pub';
import { sub } from './sub';

const help = `usage: jmqt <command> [flags]   (jmqt <command> --help for its flags)

  jmqt pub -c CHANNEL -m MESSAGE [-q 0|1] [-r] [--json]          publish, print the answer's status
  jmqt sub -c CHANNEL [-c ...] [--persistent] [-n COUNT] [--timeout S] [--json]   print pushes
  jmqt bench pub|sub|conn [-C CLIENTS] [-d SECONDS] ...           load a broker, like mqttx bench
  jmqt passwd [--delete] FILE CLIENT_ID                           edit a PASSWORD_FILE (npm run passwd)

Connections: -h HOST (default 127.0.0.1) -p PORT (default 8010) [--tls [--insecure | --ca FILE]] [--ws]
             [-u NAME [-P PASSWORD] | --auth JSON]`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  pub,
  sub,
  bench,
  passwd: async (args) => {
    await passwd(args, 'jmqt passwd');
    return ExitCode.OK;
  },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined) {
    process.stderr.write(help + '\n');
    return ExitCode.USAGE;
  }
  if (command === '--help' || command === 'help') {
    process.stdout.write(help + '\n');
    return ExitCode.OK;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`jmqt: unknown command '${command}': pub, sub, bench or passwd (jmqt --help)\n`);
    return ExitCode.USAGE;
  }
  try {
    return await run(args);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    const more = error.exitCode === ExitCode.USAGE ? ` (jmqt ${command}${command === 'bench' && args[0] && !args[0].startsWith('-') ? ` ${args[0]}` : ''} --help)` : '';
    process.stderr.write(`jmqt ${command}: ${error.message}${more}\n`);
    return error.exitCode;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`jmqt: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
