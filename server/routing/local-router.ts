/**
 * Routing on a single node: every session is here, every client id is owned
 * here, and nothing needs telling to anyone.
 */
import type { Connection } from '../connection';
import { LocalOwnership } from '../cluster/ownership';
import type { OutFrame } from '../outbound';
import type { Storage } from '../storage/storage';
import { pushToLocal, type RoutedPublish, type Router } from './router';

export class LocalRouter implements Router {
  readonly ready = true;
  readonly busState = 'single node';
  /** Fences order the sessions of one client id here too: the newest one owns it. */
  private readonly ownership = new LocalOwnership();

  constructor(readonly nodeId: string, private readonly sessions: ReadonlyMap<string, Connection>) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** After a restart of a single node no session survives, so neither does any temporary subscription. */
  removeOrphanedTemporary(storage: Storage): Promise<number> {
    return storage.removeAllTemporary();
  }

  async claim(connection: Connection): Promise<void> {
    connection.fence = await this.ownership.claim(connection.clientId);
  }

  released(connection: Connection): void {
    void this.ownership.release(connection.clientId, connection.fence);
  }

  subscribed(): void {}

  unsubscribed(): void {}

  isOnline(clientId: string): boolean {
    return this.sessions.has(clientId);
  }

  route(recipients: Iterable<string>, frame: OutFrame, publish: RoutedPublish): number {
    return pushToLocal(this.sessions, recipients, frame, publish);
  }
}
