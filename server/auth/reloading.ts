/**
 * A configuration file kept current (protocol 13.8): PASSWORD_FILE and
 * ACL_FILE are read once at start-up (a missing, unreadable or bad file stops
 * it, with a message naming the key), then again on SIGHUP and whenever the
 * file changes. A new version that is bad or unreadable is logged as ERR and
 * the last good contents stay in force. Requests after a successful reload
 * are judged by the new contents at once.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../config';
import type { Logger } from '../log';

export interface ReloadOptions<T> {
  /** The configuration key naming the file, for every message. */
  key: string;
  path: string;
  /** Parses the text; throws with the reason (and line) when it is bad. */
  parse: (text: string, origin: string) => T;
  /** A few words on what was read, for the log ("3 clients"). */
  describe: (value: T) => string;
  log: Logger;
  /** Re-read on this signal; default SIGHUP. */
  signal?: NodeJS.Signals;
  /** Changes closer together than this are one reload, ms. */
  debounceMs?: number;
}

export interface Reloadable<T> {
  readonly current: T;
  /** Reads the file again now; true when the new contents (or unchanged ones) are in force. */
  reload(): Promise<boolean>;
  /** Stops watching and listening for the signal. */
  close(): void;
}

/** Reads `path` now (throwing ConfigError) and keeps it current from then on. */
export function watchFile<T>(options: ReloadOptions<T>): Reloadable<T> {
  const { key, path, parse, describe, log } = options;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let current: T;
  try {
    current = parse(text, path);
  } catch (error) {
    throw new ConfigError(`${key}: ${(error as Error).message}`);
  }
  log.info(`${key}: read ${path}: ${describe(current)}`);

  let lastText = text;
  let running: Promise<boolean> | null = null;
  let again = false;
  let closed = false;

  const readOnce = async (): Promise<boolean> => {
    let next: string;
    try {
      next = await readFile(path, 'utf8');
    } catch (error) {
      log.error(`${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); keeping what was read before`);
      return false;
    }
    if (next === lastText || closed) return true;
    try {
      current = parse(next, path);
    } catch (error) {
      log.error(`${key}: ${(error as Error).message}; keeping what was read before`);
      return false;
    }
    lastText = next;
    log.info(`${key}: reloaded ${path}: ${describe(current)}`);
    return true;
  };

  // One read at a time; a change during a read is read once more after it.
  const reload = (): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let result: boolean;
      do {
        again = false;
        result = await readOnce();
      } while (again && !closed);
      running = null;
      return result;
    })();
    return running;
  };

  let timer: NodeJS.Timeout | null = null;
  const soon = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void reload();
    }, options.debounceMs ?? 100);
    timer.unref();
  };

  // The folder, not the file: editors and `npm run passwd` replace the file by
  // renaming a new one over it, and Kubernetes swaps a symlink beside it. Any
  // change there is read, and an unchanged file is left alone.
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(path), { persistent: false }, soon);
    watcher.on('error', (error) => log.warn(`${key}: watching ${path} stopped (${error.message}); SIGHUP still reloads it`));
  } catch (error) {
    log.warn(`${key}: cannot watch ${path} (${(error as Error).message}); SIGHUP reloads it`);
  }
  const signal = options.signal ?? 'SIGHUP';
  const onSignal = () => {
    log.info(`${signal}: reloading ${key}`);
    void reload();
  };
  process.on(signal, onSignal);

  return {
    get current() {
      return current;
    },
    reload,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher?.close();
      process.off(signal, onSignal);
    },
  };
}
