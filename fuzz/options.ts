/** Command-line flags of `npm run fuzz`: `--seed N`, `--seconds N`, `--attacks a,b`, `--help`. */
export interface FuzzOptions {
  seed: number;
  /** Length of the attack phase; the reaping and delivery checks come after it. */
  seconds: number;
  /** Names of the attacks to run; empty: all. */
  attacks: string[];
}

export const ATTACK_NAMES = ['flood', 'slowloris', 'junk', 'ws-frames', 'resets', 'upgrades', 'amplification'];

export const USAGE = `usage: npm run fuzz -- [--seed N] [--seconds N] [--attacks a,b]
  --seed N      seed of the pseudo-random generator (default: random, printed)
  --seconds N   length of the attack, seconds (default 60)
  --attacks L   comma-separated attacks to run (default all): ${ATTACK_NAMES.join(', ')}`;

export class UsageError extends Error {}

export function parseOptions(argv: string[], env: Record<string, string | undefined> = process.env): FuzzOptions | 'help' {
  const options: FuzzOptions = {
    seed: env['JMQT_FUZZ_SEED'] ? Number(env['JMQT_FUZZ_SEED']) : Math.floor(Math.random() * 2 ** 31),
    seconds: 60,
    attacks: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const [name, inline] = flag.includes('=') ? flag.split('=', 2) as [string, string] : [flag, undefined];
    const value = () => {
      const raw = inline ?? argv[++i];
      if (raw === undefined) throw new UsageError(`${name} needs a value`);
      const number = Number(raw);
      if (!Number.isInteger(number) || number < 0) throw new UsageError(`${name}: '${raw}' is not a whole number`);
      return number;
    };
    switch (name) {
      case '--seed': options.seed = value(); break;
      case '--seconds': options.seconds = value(); break;
      case '--attacks': {
        const raw = inline ?? argv[++i];
        if (!raw) throw new UsageError('--attacks needs a list');
        options.attacks = raw.split(',').map((name) => name.trim()).filter(Boolean);
        const unknown = options.attacks.filter((name) => !ATTACK_NAMES.includes(name));
        if (unknown.length > 0) throw new UsageError(`unknown attack(s): ${unknown.join(', ')}`);
        break;
      }
      case '--help': case '-h': return 'help';
      default: throw new UsageError(`unknown flag ${flag}`);
    }
  }
  if (!Number.isInteger(options.seed)) throw new UsageError('JMQT_FUZZ_SEED is not a whole number');
  if (options.seconds < 1) throw new UsageError('--seconds must be at least 1');
  return options;
}
