/**
 * What the NUL-framed and WebSocket transports need of the broker (ARCHITECTURE
 * rule 13): a connection for each admitted socket, the size limit, the
 * allowed origins, and where to count and log what went wrong.
 */
import type { TransportName } from '../../shared/keys';
import type { Config } from '../config';
import type { Connection } from '../connection';
import type { Logger } from '../log';
import type { Wire } from '../outbound';
import type { BrokerCounters } from '../stats';

export interface TransportHost {
  readonly config: Pick<Config, 'MAX_PACKET_BYTES' | 'WS_ALLOWED_ORIGINS'>;
  readonly counters: Pick<BrokerCounters, 'invalidUtf8' | 'droppedPackets' | 'oversizedFrames'>;
  readonly log: Logger;
  limitHit(key: string, detail: string): void;
  /** A connection (no session yet) over `wire` from the client at `remoteHost`. */
  accept(wire: Wire, protocol: TransportName, remoteHost: string): Connection;
}
