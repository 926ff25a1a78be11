/**
 * Levelled logger (DBG/INF/WRN/ERR, from LOG_MODE). Lines go to LOG_PATH or
 * standard output; every session event names client id, remote address and
 * transport, so one grep follows a client. Every line is the logger's own:
 * control characters in a message are escaped, so nothing a client sent can
 * start a line (call sites quote client text with quote() as well).
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { escapeControls } from './log-text';

export const levels = ['DBG', 'INF', 'WRN', 'ERR'] as const;
export type Level = (typeof levels)[number];

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  close(): Promise<void>;
}

export function createLogger(mode: string, path: string): Logger {
  const threshold = Math.max(0, levels.indexOf(mode as Level));
  let stream: WriteStream | null = null;
  if (path) {
    mkdirSync(dirname(path), { recursive: true });
    stream = createWriteStream(path, { flags: 'a' });
  }
  const write = (level: Level, message: string) => {
    if (levels.indexOf(level) < threshold) return;
    const line = `${new Date().toISOString()} ${level} ${escapeControls(message)}\n`;
    if (stream) stream.write(line);
    else process.stdout.write(line);
  };
  return {
    debug: (message) => write('DBG', message),
    info: (message) => write('INF', message),
    warn: (message) => write('WRN', message),
    error: (message) => write('ERR', message),
    close: () => new Promise((resolve) => (stream ? stream.end(resolve) : resolve())),
  };
}
