/**
 * What the packet handlers need of the broker, owned by the handlers
 * (ARCHITECTURE rule 13): limits and counters, the application's hooks, the
 * subscription calls, the publish pipeline, the session start and its replay.
 * The broker implements it; no handler sees more.
 */
import type { Config } from '../config';
import type { Connection } from '../connection';
import type { Application } from '../hooks';
import type { Logger } from '../log';
import type { Publication } from '../publish/publication';
import type { Replayer } from '../replay';
import type { Router } from '../routing/router';
import type { BrokerCounters } from '../stats';

export interface HandlerContext {
  readonly config: Readonly<Config>;
  readonly counters: BrokerCounters;
  readonly log: Logger;
  readonly app: Application;
  /** Protocol 7.1: the pipeline a pub enters once authorised. */
  readonly publisher: { publish(publication: Publication): number | Promise<number> };
  /** Whether a publish can reach every node it must now. */
  readonly router: Pick<Router, 'ready'>;
  /** After connAck and after a sub: stored copies and retained messages (protocol 5.5). */
  readonly replayer: Pick<Replayer, 'replay' | 'pushRetained'>;
  /** Counts and logs a limit being hit; `key` is the configuration key that set it. */
  limitHit(key: string, detail: string): void;
  /** A client's subscriptions: channel → persistent. */
  channelsOf(clientId: string): ReadonlyMap<string, boolean> | undefined;
  subscribe(clientId: string, channel: string, persistent: boolean): Promise<void>;
  /** Answers whether the subscription existed. */
  unsubscribe(clientId: string, channel: string): Promise<boolean>;
  /** Protocol 5.2-5.4: takeover, ownership, `#clientId`; the caller sends connAck after it. */
  openSession(connection: Connection, clientId: string): Promise<void>;
  /** Protocol 7.6: deletes a subscriber's stored copy; answers whether it was there. */
  acknowledge(clientId: string, id: string): Promise<boolean>;
}
