/**
 * The operator's view of the broker, refreshed every 2 s from the REST API:
 * totals, messages per second, connected clients (transport, subscriptions,
 * queued QoS 1), offline queues and retained messages. Asks for the admin
 * token when the API answers 401.
 */
import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, input, signal, type OnInit } from '@angular/core';
import { dataText } from '../jmqt/log-line';
import { ageLabel, Clock } from '../ui/clock';
import { RateChart } from '../ui/rate-chart';
import { compactNumber, RateSeries } from '../ui/rate-series';
import { ApiAuthError, BrokerApi } from './broker-api';
import type { BrokerClients, BrokerRetained, BrokerStats, TransportName } from './broker-types';

/** How often the panel asks the API, ms. */
const REFRESH_MS = 2000;

const TRANSPORT_LABELS: Record<TransportName, string> = {
  SOCKET: 'TCP',
  SSL_SOCKET: 'TLS',
  WEB_SOCKET: 'WS',
  SSL_WEB_SOCKET: 'WSS',
};

/** `3725` s → `1 h 2 min`. */
export function uptimeLabel(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** `1536` → `1.5 KiB`, `221249536` → `211 MiB`: three significant digits at most. */
export function bytesLabel(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, '')} ${units[unit]}`;
}

@Component({
  selector: 'jmqt-broker-panel',
  imports: [RateChart],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './broker-panel.html',
  styleUrl: './broker-panel.css',
})
export class BrokerPanel implements OnInit {
  /** Refresh period, ms (tests shorten it; 0: no timer). */
  readonly refreshMs = input(REFRESH_MS);

  private readonly api = inject(BrokerApi);
  private readonly clock = inject(Clock);
  protected readonly stats = signal<BrokerStats | null>(null);
  protected readonly clients = signal<BrokerClients | null>(null);
  protected readonly retained = signal<BrokerRetained | null>(null);
  protected readonly error = signal<string | null>(null);
  /** Set when the API wants a token: 401 (wrong or none) or 403 (loopback only). */
  protected readonly auth = signal<{ status: number; message: string } | null>(null);
  protected readonly updatedAt = signal<number | null>(null);
  protected readonly tokenDraft = signal('');
  protected readonly inRate = new RateSeries(60);
  protected readonly outRate = new RateSeries(60);
  private inFlight = false;

  protected readonly series = computed(() => [
    { label: 'in', points: this.inRate.points(), color: 'var(--accent)' },
    { label: 'out', points: this.outRate.points(), color: 'var(--ok)' },
  ]);
  protected readonly transports = computed(() => {
    const by = this.stats()?.connections.byTransport ?? {};
    return (Object.keys(TRANSPORT_LABELS) as TransportName[]).map((name) => ({ name, label: TRANSPORT_LABELS[name], count: by[name] ?? 0 }));
  });
  protected readonly clientRows = computed(() =>
    (this.clients()?.clients ?? [])
      .slice()
      .sort((a, b) => a.clientId.localeCompare(b.clientId))
      .map((client) => ({ ...client, channels: Object.entries(client.subscriptions).map(([channel, kind]) => ({ channel, kind })) })),
  );
  protected readonly retainedRows = computed(() =>
    (this.retained()?.retained ?? []).map((message) => ({ ...message, text: dataText(message.data) })),
  );
  protected readonly updated = computed(() => {
    const at = this.updatedAt();
    return at === null ? 'never' : `${ageLabel(at, this.clock.now())} ago`;
  });
  protected readonly hasToken = computed(() => this.api.token() !== '');
  protected readonly compact = compactNumber;
  protected readonly uptime = uptimeLabel;
  protected readonly bytes = bytesLabel;
  protected readonly seen = (ms: number) => (ms < 1500 ? 'now' : `${Math.round(ms / 1000)} s ago`);
  protected readonly transportLabel = (name: TransportName) => TRANSPORT_LABELS[name] ?? name;

  private readonly destroyRef = inject(DestroyRef);

  ngOnInit(): void {
    void this.refresh();
    const period = this.refreshMs();
    if (period <= 0) return;
    const timer = setInterval(() => void this.refresh(), period);
    this.destroyRef.onDestroy(() => clearInterval(timer));
  }

  /** One round of the three requests; skipped while the previous one is still out. */
  async refresh(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const [stats, clients, retained] = await Promise.all([this.api.stats(), this.api.clients(), this.api.retained()]);
      const now = Date.now();
      this.inRate.sample(stats.messages.in, now);
      this.outRate.sample(stats.messages.out, now);
      this.stats.set(stats);
      this.clients.set(clients);
      this.retained.set(retained);
      this.updatedAt.set(now);
      this.error.set(null);
      this.auth.set(null);
    } catch (error) {
      if (error instanceof ApiAuthError) this.auth.set({ status: error.status, message: error.message });
      else this.error.set(error instanceof Error ? error.message : String(error));
    } finally {
      this.inFlight = false;
    }
  }

  protected async saveToken(): Promise<void> {
    this.api.setToken(this.tokenDraft());
    this.tokenDraft.set('');
    await this.refresh();
  }

  protected async forgetToken(): Promise<void> {
    this.api.setToken('');
    await this.refresh();
  }
}
