/** How `jmqt` ends: its exit codes, and the one error type its commands throw. */
import { JmqtError } from '../../shared/client/index';

export const ExitCode = {
  OK: 0,
  /** The broker answered with another status than OK (auth, conn, sub or pub refused). */
  REFUSED: 1,
  /** A flag is missing, unknown or has a bad value. */
  USAGE: 2,
  /** The broker cannot be reached, or the connection was lost. */
  NETWORK: 3,
  /** No answer in time, or `sub --timeout` ran out before `-n` messages came. */
  TIMEOUT: 4,
} as const;

/** A failure to report in one line (`jmqt <command>: <message>`) with its exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, ExitCode.USAGE);

/** An SDK rejection as a CliError: network → 3, timeout → 4; `what` says what was being done. */
export function fromSdkError(error: unknown, what: string): CliError {
  if (error instanceof CliError) return error;
  if (!(error instanceof JmqtError)) return new CliError(`${what}: ${(error as Error).message}`, ExitCode.NETWORK);
  // JmqtError messages read `NETWORK_ERROR (network): <reason>`: keep the reason.
  const reason = error.message.replace(/^[A-Z_0-9]+ \(\w+\): /, '');
  if (error.code === 'timeout') return new CliError(`${what}: ${reason}`, ExitCode.TIMEOUT);
  const hint = /certificate/i.test(reason) ? ' (a self-signed broker certificate: --insecure, or --ca FILE)' : '';
  return new CliError(`${what}: ${reason}${hint}`, ExitCode.NETWORK);
}
