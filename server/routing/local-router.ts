/**
 * Routing on a single node: every session is here, every client id is owned
 * here, and nothing needs telling to anyone.
 */
import type { Connection } from '../connection';
import type { OutFrame } from '../outbound';
import type { Storage } from '../storage/storage';
import type { RoutedPublish, Router } from './router';

export class LocalRouter implements Router {
  readonly ready = true;
  readonly busState = 'single node';
  /** Fences order the sessions of one client id here too (the newest is the larger); one counter serves every id. */
  private lastFence = 0;

  constructor(readonly nodeId: string, private readonly sessions: ReadonlyMap<string, Connection>) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** After a restart of a single node no session survives, so neither does any temporary subscription. */
  removeOrphanedTemporary(storage: Storage): Promise<number> {
    return storage.removeAllTemporary();
  }

  async claim(connection: Connection): Promise<void> {
    connection.fence = ++this.lastFence;
  }

  released(): void {}

  subscribed(): void {}

  unsubscribed(): void {}

  isOnline(clientId: string): boolean {
    return this.sessions.has(clientId);
  }

  route(recipients: Iterable<string>, frame: OutFrame, publish: RoutedPublish): number {
    return pushToLocal(this.sessions, recipients, frame, publish);
  }
}

/**
 * The local half of every route: pushes to the recipients with a session
 * here, calls `elsewhere` with the others. Answers how many it pushed to.
 */
export function pushToLocal(
  sessions: ReadonlyMap<string, Connection>,
  recipients: Iterable<string>,
  frame: OutFrame,
  publish: RoutedPublish,
  elsewhere?: (clientId: string) => void,
): number {
  const { sender } = publish;
  const qos1 = publish.id !== undefined;
  let reached = 0;
  for (const clientId of recipients) {
    if (clientId === sender) continue;
    const connection = sessions.get(clientId);
    if (connection) {
      if (qos1) connection.pushQos1(frame);
      else connection.pushQos0(frame);
      reached++;
    } else if (elsewhere) {
      elsewhere(clientId);
    }
  }
  return reached;
}
