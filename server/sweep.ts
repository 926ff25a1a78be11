/**
 * The broker's once-a-second sweep over every connection. Protocol 5.8:
 * nothing from the client for `ts` seconds ends its session, and a silent
 * new socket closes too; 11.8: no session CONNECT_TIMEOUT_SECONDS after the
 * socket opened closes it; 11.3: a connection over OUTBOUND_BUFFER_BYTES for
 * SLOW_CONSUMER_SECONDS is a slow consumer and is closed.
 */
import type { Config } from './config';
import type { Connection } from './connection';

export interface SweepParts {
  readonly config: Pick<Config, 'TIMEOUT_SECONDS' | 'CONNECT_TIMEOUT_SECONDS' | 'SLOW_CONSUMER_SECONDS'>;
  readonly connections: Iterable<Connection>;
  readonly outboundLimit: number;
  limitHit(key: string, detail: string, clientId?: string): void;
}

export function sweepConnections(parts: SweepParts, now = Date.now()): void {
  const { config } = parts;
  const idleSince = now - config.TIMEOUT_SECONDS * 1000;
  const connectBy = now - config.CONNECT_TIMEOUT_SECONDS * 1000;
  const slowFor = config.SLOW_CONSUMER_SECONDS * 1000;
  for (const connection of parts.connections) {
    // A connection the broker stopped reading (outbound full, throttled) is silent by the broker's doing.
    if (connection.lastSeen < idleSince && connection.reading) {
      connection.close('idle timeout');
    } else if (connection.state === 'open' && connection.connectedAt < connectBy) {
      parts.limitHit('CONNECT_TIMEOUT_SECONDS', `no session ${config.CONNECT_TIMEOUT_SECONDS} s after ${connection.describe()} connected`);
      connection.close('no conn in time');
    } else if (connection.bufferedBytes > parts.outboundLimit) {
      connection.overLimitSince ||= now;
      if (now - connection.overLimitSince >= slowFor) {
        parts.limitHit('SLOW_CONSUMER_SECONDS', `${connection.describe()} over OUTBOUND_BUFFER_BYTES for ${config.SLOW_CONSUMER_SECONDS} s`, connection.clientId);
        connection.close('slow consumer');
      }
    } else {
      connection.overLimitSince = 0;
    }
  }
}
