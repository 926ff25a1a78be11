/**
 * "Connect with token": conn with a pasted client id and token, no auth
 * (protocol 5.2), so forged, expired and other clients' tokens can be tried;
 * the broker refuses them with 6 INVALID_TOKEN. Prefilled from the last authAck.
 */
import { ChangeDetectionStrategy, Component, computed, input, linkedSignal, signal } from '@angular/core';
import { Status, statusName } from '../../../../shared/client';
import type { ClientSession } from '../jmqt/client-session';

@Component({
  selector: 'jmqt-token-connect-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <details #details [open]="open()" (toggle)="open.set(details.open)">
      <summary>Connect with a client ID and token</summary>
      <form class="token-form" novalidate (submit)="$event.preventDefault(); connect()">
        <div class="field client">
          <label [for]="id() + '-cl'">Client ID</label>
          <input
            #clientField
            type="text"
            autocomplete="off"
            required
            [id]="id() + '-cl'"
            [value]="clientId()"
            [attr.aria-invalid]="showError()"
            [attr.aria-describedby]="id() + '-token-help'"
            (input)="clientId.set(clientField.value)"
          />
        </div>
        <div class="field token">
          <label [for]="id() + '-at'">Token</label>
          <input
            #tokenField
            type="text"
            class="mono"
            autocomplete="off"
            spellcheck="false"
            placeholder="Paste a token"
            [id]="id() + '-at'"
            [value]="token()"
            (input)="token.set(tokenField.value)"
          />
        </div>
        <button type="submit" class="btn secondary" [disabled]="busy()">Connect with token</button>
      </form>
      <div [id]="id() + '-token-help'" aria-live="polite">
        @if (showError()) {
          <p class="field-error">{{ error() }}</p>
        } @else if (refusal(); as text) {
          <p class="field-error">{{ text }}</p>
        } @else {
          <p class="hint">Skips auth and sends conn as it is: a forged, expired or another client's token is refused with 6 INVALID_TOKEN.</p>
        }
      </div>
    </details>
  `,
  styles: `
    :host { display: block; }
    summary { width: fit-content; font-size: 0.85rem; font-weight: 600; color: var(--accent); cursor: pointer; }
    .token-form { display: flex; flex-wrap: wrap; align-items: end; gap: 8px 10px; margin-top: 8px; }
    .field { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
    .field label { font-size: 0.78rem; font-weight: 600; color: var(--muted); }
    .client { flex: 1 1 140px; }
    .token { flex: 3 1 240px; }
    .field input { width: 100%; }
  `,
})
export class TokenConnectForm {
  readonly session = input.required<ClientSession>();
  /** Client ids in session in the other tabs: taking one over is refused here, as in ConnectForm. */
  readonly taken = input<readonly string[]>([]);

  protected readonly id = computed(() => `c${this.session().id}`);
  protected readonly open = signal(false);
  /** The last authAck's client id and token, to edit or replace. */
  protected readonly clientId = linkedSignal(() => this.session().lastAuthAck()?.clientId ?? this.session().clientName());
  protected readonly token = linkedSignal(() => this.session().lastAuthAck()?.token ?? '');
  protected readonly touched = signal(false);
  protected readonly busy = computed(() => this.session().connecting());
  protected readonly error = computed(() => {
    const clientId = this.clientId();
    if (clientId.trim() === '') return 'Please enter a client ID';
    if (this.taken().includes(clientId)) return `'${clientId}' is connected in another tab`;
    return null;
  });
  protected readonly showError = computed(() => this.touched() && this.error() !== null);
  private readonly tried = signal(false);
  /** This form's last conn was refused: its connAck, status by name (the log has the line too). */
  protected readonly refusal = computed(() => {
    const answer = this.session().lastConnAck();
    if (!this.tried() || !answer || answer.status === Status.OK) return null;
    return `connAck: Status ${statusName(answer.status)} (${answer.status})`;
  });

  /** Protocol 3.3: `cl` is used exactly as sent, so it is not trimmed; the token may be empty. */
  protected async connect(): Promise<void> {
    this.touched.set(true);
    if (this.error() !== null || this.busy()) return;
    this.tried.set(true);
    await this.session().connectWithToken(this.clientId(), this.token());
  }
}
