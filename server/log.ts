/**
 * Levelled logger (DBG/INF/WRN/ERR, from LOG_MODE). Lines go to LOG_PATH or
 * standard output; every session event names client id, remote address and
 * transport, so one grep follows a client. Every line is the logger's own:
 * control characters in a message are escaped, so nothing a client sent can
 * start a line (call sites quote client text with quote() as well).
 *
 * LOG_FORMAT = json writes one JSON object per line for log collectors:
 * `{"time":"<ISO 8601>","level":"info","message":"…"}`, the level as
 * debug, info, warn or error. JSON escapes the control characters; the few
 * it leaves as they are (DEL, C1 controls, line separators, bidi overrides)
 * are written as \u escapes too, so the message decodes to exactly the text
 * logged and the line still holds nothing a terminal or a line reader would act on.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { escapeControls } from './log-text';

export const levels = ['DBG', 'INF', 'WRN', 'ERR'] as const;
export type Level = (typeof levels)[number];
export type LogFormat = 'text' | 'json';

/** The level as JSON lines name it (the names log collectors recognise). */
const jsonLevels: Record<Level, string> = { DBG: 'debug', INF: 'info', WRN: 'warn', ERR: 'error' };

/** One log line, newline included. */
export function formatLine(format: LogFormat, level: Level, message: string, time = new Date()): string {
  if (format === 'json') return `${escapeControls(JSON.stringify({ time: time.toISOString(), level: jsonLevels[level], message }))}\n`;
  return `${time.toISOString()} ${level} ${escapeControls(message)}\n`;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  close(): Promise<void>;
}

export function createLogger(mode: string, path: string, format: LogFormat = 'text'): Logger {
  const threshold = Math.max(0, levels.indexOf(mode as Level));
  let stream: WriteStream | null = null;
  if (path) {
    mkdirSync(dirname(path), { recursive: true });
    stream = createWriteStream(path, { flags: 'a' });
  }
  const write = (level: Level, message: string) => {
    if (levels.indexOf(level) < threshold) return;
    const line = formatLine(format, level, message);
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
