/**
 * The broker's dispatcher as connections call it: while one connection's
 * packet is handled (the synchronous part of its handler, where every limit
 * of protocol 11.1 and 11.6 is checked), `current` names that connection, so
 * a limit hit meanwhile is counted for its client (admin API).
 */
import type { Connection } from './connection';

type HandleText = (connection: Connection, text: string) => void | Promise<void>;

export class AttributedDispatcher {
  current: Connection | null = null;

  constructor(private readonly inner: { handleText: HandleText }) {}

  readonly handleText: HandleText = (connection, text) => {
    this.current = connection;
    try {
      return this.inner.handleText(connection, text);
    } finally {
      this.current = null;
    }
  };
}
