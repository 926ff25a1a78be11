/**
 * Watches the broker from outside while it is attacked: RSS and open fds
 * from /proc, GET /api/health and GET /api/stats on its WebSocket port (from
 * loopback, so the admin API answers without a token). Keeps the baseline,
 * the peak and the latest of each.
 */
import { request } from 'node:http';
import { HTTP_TIMEOUT_MS } from './bounds';
import { GOOD_ADDRESS } from './good-client';
import { BROKER_HOST } from './link';
import { sampleProcess, type ProcessSample } from './proc';

export interface BrokerStats {
  connections: { total: number; sessions: number; byTransport: Record<string, number> };
  subscriptions: number;
  queuedQos1: number;
  messages: { in: number; out: number };
  counters: {
    packetsIn: number; packetsOut: number; droppedPackets: number; droppedPushes: number; oversizedFrames: number; invalidUtf8: number;
    duplicatePublishes: number; deferredPushes: number; limitHits: Record<string, number>;
  };
  memory: { rssBytes: number };
}

export interface HealthFailure {
  at: number;
  problem: string;
}

/** GET on the broker's HTTP port; resolves with status and body, rejects on timeout or error. */
export function httpGet(port: number, path: string, timeoutMs = HTTP_TIMEOUT_MS): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: BROKER_HOST, port, path, localAddress: GOOD_ADDRESS, agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export class Monitor {
  baseline: ProcessSample | null = null;
  peak: ProcessSample = { rssBytes: 0, fds: 0 };
  latest: ProcessSample | null = null;
  stats: BrokerStats | null = null;
  statsError: string | null = null;
  healthChecks = 0;
  readonly healthFailures: HealthFailure[] = [];
  private inFlight = false;

  constructor(private readonly pid: number, private readonly httpPort: number) {}

  /** Takes the baseline from the current figures. */
  setBaseline(): void {
    this.baseline = sampleProcess(this.pid);
    this.latest = this.baseline;
  }

  /** One sample of /proc (at once) and of the HTTP endpoints (one round at a time). */
  async sample(): Promise<void> {
    const proc = sampleProcess(this.pid);
    if (proc) {
      this.latest = proc;
      this.peak = { rssBytes: Math.max(this.peak.rssBytes, proc.rssBytes), fds: Math.max(this.peak.fds, proc.fds) };
    }
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      await Promise.all([this.checkHealth(), this.readStats()]);
    } finally {
      this.inFlight = false;
    }
  }

  private async checkHealth(): Promise<void> {
    this.healthChecks++;
    try {
      const { status, body } = await httpGet(this.httpPort, '/api/health');
      if (status !== 200) this.healthFailures.push({ at: Date.now(), problem: `/api/health answered ${status}: ${body.slice(0, 100)}` });
    } catch (error) {
      this.healthFailures.push({ at: Date.now(), problem: `/api/health: ${(error as Error).message}` });
    }
  }

  private async readStats(): Promise<void> {
    try {
      const { status, body } = await httpGet(this.httpPort, '/api/stats');
      if (status !== 200) throw new Error(`answered ${status}`);
      this.stats = JSON.parse(body) as BrokerStats;
      this.statsError = null;
    } catch (error) {
      this.statsError = `/api/stats: ${(error as Error).message}`;
    }
  }
}
