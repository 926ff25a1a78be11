/**
 * A tab's connection at a glance: state (coloured), the original page's
 * `Connected: Client ID - '…', Client Name - '…'` line (no name when the auth
 * sent no `client_name`, or there was no auth), heartbeat age, idle timeout
 * and the push rate.
 */
import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import type { ClientState } from '../../../../shared/client';
import type { ClientSession } from '../jmqt/client-session';
import { ageLabel, Clock } from '../ui/clock';
import { RateChart } from '../ui/rate-chart';

export const STATE_LABELS: Record<ClientState, string> = {
  closed: 'Disconnected',
  connecting: 'Connecting',
  open: 'Authenticating',
  session: 'Connected',
  reconnecting: 'Reconnecting',
};

@Component({
  selector: 'jmqt-connection-status',
  imports: [RateChart],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="info">
      <div class="status-row">
        <span class="state-pill" [class]="'state-pill state-' + state()" role="status">{{ label() }}</span>
        @if (state() === 'session') {
          <i class="status-line">Connected: Client ID - '{{ connection().clientId() }}'@if (session().authName(); as name) {, Client Name - '{{ name }}'}</i>
        } @else if (state() === 'closed') {
          <i class="status-line muted">Enter a client name and click 'connect'</i>
        } @else {
          <i class="status-line muted">{{ connection().url() }}</i>
        }
      </div>
      @if (state() !== 'closed') {
        <dl class="facts">
          <div><dt>Broker</dt><dd class="mono">{{ connection().url() }}</dd></div>
          <div><dt>Heartbeat</dt><dd>{{ heartbeat() }}</dd></div>
          <div><dt>Last packet</dt><dd>{{ lastPacket() }}</dd></div>
          <div><dt>Idle timeout</dt><dd>{{ connection().timeoutSeconds() ?? '—' }} s</dd></div>
        </dl>
      }
    </div>
    @if (state() !== 'closed') {
      <jmqt-rate-chart class="rate" title="Received" [series]="series()" [height]="58" />
    }
  `,
  styles: `
    :host { display: flex; align-items: center; gap: 12px 24px; flex-wrap: wrap; }
    .info { flex: 1 1 320px; min-width: 0; }
    .status-row { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
    .status-line { color: var(--info); font-size: 0.875rem; }
    .status-line.muted { color: var(--muted); }
    .facts { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 8px 0 0; font-size: 0.78rem; }
    .facts div { display: flex; gap: 6px; }
    .facts dt { color: var(--muted); }
    .facts dd { margin: 0; font-variant-numeric: tabular-nums; }
    .rate { flex: 0 1 240px; min-width: 180px; }
    @container (max-width: 560px) { .rate { display: none; } }
  `,
})
export class ConnectionStatus {
  readonly session = input.required<ClientSession>();

  private readonly clock = inject(Clock);
  protected readonly connection = computed(() => this.session().connection);
  protected readonly state = computed(() => this.connection().state());
  protected readonly label = computed(() => STATE_LABELS[this.state()]);
  protected readonly heartbeat = computed(() => {
    const at = this.connection().lastHeartbeatAt();
    return at === null ? 'no hbAck yet' : `${ageLabel(at, this.clock.now())} ago`;
  });
  protected readonly lastPacket = computed(() => {
    const at = this.connection().lastPacketAt();
    return at === null ? '—' : `${ageLabel(at, this.clock.now())} ago`;
  });
  protected readonly series = computed(() => [{ label: 'pushes', points: this.session().rate.points(), color: 'var(--accent)' }]);
}
