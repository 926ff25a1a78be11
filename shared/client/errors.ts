/** JmqtError, the SDK's one rejection type, and the reasons a request fails without a server answer. */
import { Status, statusName } from '../status';

/**
 * Why a request failed without a server answer:
 * - `timeout`: no answer within the request timeout (status -1 UNKNOWN);
 * - `network`: the connection is not open or went away (status 9 NETWORK_ERROR);
 * - `protocol`: the server sent text that is not a JMQT packet (status 10 INVALID_PACKET).
 */
export type JmqtErrorCode = 'timeout' | 'network' | 'protocol';

/**
 * The one error type the SDK rejects with. Server answers, even non-OK
 * ones, are never errors: they resolve with their status.
 */
export class JmqtError extends Error {
  constructor(
    /** Protocol 4.1 status: -1 for `timeout`, 9 for `network`, 10 for `protocol`. */
    readonly status: number,
    readonly code: JmqtErrorCode,
    message: string,
  ) {
    super(`${statusName(status)} (${code}): ${message}`);
    this.name = 'JmqtError';
  }

  static timeout(what: string, ms: number): JmqtError {
    return new JmqtError(Status.UNKNOWN, 'timeout', `no answer to ${what} within ${ms} ms`);
  }

  static network(reason: string): JmqtError {
    return new JmqtError(Status.NETWORK_ERROR, 'network', reason);
  }
}
