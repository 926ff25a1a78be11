/**
 * In-process bus: a single node has no peers; several nodes in one process
 * (the bus contract suite) share a hub.
 */
import type { BusHandler, BusMessage, ClusterBus } from './bus';

export class LocalHub {
  readonly nodes = new Map<string, BusHandler>();
}

export class LocalBus implements ClusterBus {
  readonly healthy = true;
  private started = false;

  constructor(readonly nodeId: string, private readonly hub = new LocalHub()) {}

  async start(handler: BusHandler): Promise<void> {
    this.hub.nodes.set(this.nodeId, handler);
    this.started = true;
  }

  broadcast(message: BusMessage): void {
    for (const [nodeId, handler] of this.hub.nodes) {
      if (nodeId !== this.nodeId) deliver(handler, message, this.nodeId);
    }
  }

  send(nodeId: string, message: BusMessage): void {
    const handler = this.hub.nodes.get(nodeId);
    if (handler && nodeId !== this.nodeId) deliver(handler, message, this.nodeId);
  }

  onRecovered(): void {
    // Never down.
  }

  async stop(): Promise<void> {
    if (this.started) this.hub.nodes.delete(this.nodeId);
    this.started = false;
  }
}

/** Asynchronous, as over a network, and a copy, so no node shares objects with another. */
function deliver(handler: BusHandler, message: BusMessage, from: string): void {
  const copy = JSON.parse(JSON.stringify(message)) as BusMessage;
  queueMicrotask(() => handler(copy, from));
}
