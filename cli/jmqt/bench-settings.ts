/**
 * What every `jmqt bench` mode shares: its flags (clients, pacing, duration,
 * connection), their checks, Ctrl-C ending a run early, and the summary's output.
 */
import { connectionHelp, connectionOptions, targetFrom, type Target } from './connection';
import { intFlag, secondsFlag } from './flags';

export const benchCommonHelp = `  -C, --clients N        clients (default 10)
  -i, --interval MS      ms between two clients' connections (default 10; the broker
                         limits new connections per address, CONNECTION_RATE_PER_ADDRESS)
  -d, --duration S       seconds the run lasts once every client is connected
      --timeout S        seconds a request may wait for its answer (default 10)
      --json             the summary as one JSON object
      --help             this text

${connectionHelp.replace('default: jmqt-<random>', 'default: jmqt-bench-<random>-%i; %i: the client number')}

exit codes: 0 the run finished (errors are in the summary), 2 bad flags, 3 no client could connect`;

export const benchOptions = {
  ...connectionOptions,
  clients: { type: 'string', short: 'C', default: '10' },
  interval: { type: 'string', short: 'i', default: '10' },
  duration: { type: 'string', short: 'd' },
  timeout: { type: 'string', default: '10' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

export interface BenchSettings {
  target: Target;
  clients: number;
  intervalMs: number;
  durationMs: number;
  requestTimeoutMs: number;
  json: boolean;
}

export function benchSettings(values: {
  clients: string; interval: string; duration?: string; timeout: string; json: boolean;
  host: string; port?: string; tls: boolean; ws: boolean; insecure: boolean; ca?: string; user?: string;
}, defaultDurationSeconds: number): BenchSettings {
  if (values.user === undefined) values.user = `jmqt-bench-${Math.random().toString(16).slice(2, 8)}-%i`;
  return {
    target: targetFrom(values),
    clients: intFlag('-C, --clients', values.clients, 1, 100_000),
    intervalMs: intFlag('-i, --interval', values.interval, 0, 60_000),
    durationMs: (values.duration === undefined ? defaultDurationSeconds : secondsFlag('-d, --duration', values.duration, true)) * 1000,
    requestTimeoutMs: secondsFlag('--timeout', values.timeout) * 1000,
    json: values.json,
  };
}

/** Ctrl-C (or SIGTERM) ends the run early; the summary is still printed. */
export function interruption(): { readonly interrupted: boolean; release(): void } {
  const state = { interrupted: false, release: () => undefined as void };
  const stop = () => { state.interrupted = true; };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  state.release = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  return state;
}

/** Prints the summary: its text lines, or the object as JSON. */
export function printSummary(settings: BenchSettings, lines: string[], object: Record<string, unknown>): void {
  process.stdout.write(settings.json ? JSON.stringify(object) + '\n' : lines.join('\n') + '\n');
}
