/**
 * Flags of every `jmqt` command with node:util parseArgs, and the checks of
 * their values; every mistake becomes one line naming the flag (exit 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './errors';

export type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** parseArgs' messages, shortened to one line that names the flag. */
function parseArgsProblem(error: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  const flag = quoted.replace(/ <value>$/, '');
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown flag ${flag}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return `unexpected argument '${quoted}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(error.message)) return `${flag} needs a value`;
      if (/does not take an argument/.test(error.message)) return `${flag} takes no value`;
      if (/ambiguous/.test(error.message)) return `${flag}: the value starts with '-'; write it as --flag=VALUE`;
      return error.message.split('\n')[0]!;
    default: return error.message.split(/\.\s|\n/)[0]!;
  }
}

export function parseFlags<T extends FlagOptions>(options: T, args: string[], allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw usageError(parseArgsProblem(error as Error));
  }
}

/** A whole number from `min` to `max`; `flag` names it in the error. */
export function intFlag(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw usageError(`${flag}: expected a whole number from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

/** A number of seconds (fractions allowed), more than 0. */
export function secondsFlag(flag: string, raw: string, allowZero = false): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw usageError(`${flag}: expected a number of seconds${allowZero ? '' : ' over 0'}, got '${raw}'`);
  }
  return value;
}

export function qosFlag(raw: string): 0 | 1 {
  if (raw === '0' || raw === '1') return Number(raw) as 0 | 1;
  throw usageError(`-q, --qos: expected 0 or 1, got '${raw}'`);
}

export function jsonFlag(flag: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw usageError(`${flag}: not JSON: ${(error as Error).message}`);
  }
}

export function required<T>(flag: string, value: T | undefined): T {
  if (value === undefined) throw usageError(`${flag} is required`);
  return value;
}
