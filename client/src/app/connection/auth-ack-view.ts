/** The whole answer to the last auth (protocol 3.2): status by name and number, client id, token, message. */
import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { Status, statusName, type AuthAnswer } from '../../../../shared/client';

@Component({
  selector: 'jmqt-auth-ack-view',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="auth-ack" [attr.aria-labelledby]="idPrefix() + '-title'">
      <h3 class="row-label" [id]="idPrefix() + '-title'">Last authAck</h3>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd class="status" [class.ok]="ok()">{{ name() }} ({{ answer().status }})</dd>
        </div>
        <div>
          <dt>Client ID</dt>
          <dd class="mono">{{ answer().clientId ?? '—' }}</dd>
        </div>
        <div class="token">
          <dt>Token</dt>
          <dd class="mono" [title]="answer().token ? 'Click to select' : ''">{{ answer().token ?? '—' }}</dd>
        </div>
        <div>
          <dt>Message</dt>
          <dd>{{ answer().message ?? '—' }}</dd>
        </div>
      </dl>
    </section>
  `,
  styles: `
    :host { display: block; }
    .auth-ack { display: flex; align-items: baseline; gap: 4px 14px; flex-wrap: wrap; }
    .row-label { margin: 0; }
    .facts { flex: 1 1 300px; display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0; font-size: 0.78rem; min-width: 0; }
    .facts div { display: flex; gap: 6px; min-width: 0; }
    .facts dt { color: var(--muted); flex: none; }
    .facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
    .status { font-weight: 650; color: var(--error); }
    .status.ok { color: var(--ok); }
    .token dd { user-select: all; }
  `,
})
export class AuthAckView {
  readonly answer = input.required<AuthAnswer>();
  /** Distinguishes the ids of several tabs on one page. */
  readonly idPrefix = input('auth-ack');

  protected readonly ok = computed(() => this.answer().status === Status.OK);
  protected readonly name = computed(() => statusName(this.answer().status));
}
