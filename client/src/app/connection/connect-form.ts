/**
 * The original page's first row, "Client Name" and "Connect" (auth, then conn),
 * with the Auth data field under it: auth `dt` as any JSON (protocol 3.2), by
 * default `{"client_name": "<Client Name>"}`, so every authentication mode can be tried.
 */
import { ChangeDetectionStrategy, Component, computed, input, linkedSignal, signal } from '@angular/core';
import type { ClientSession } from '../jmqt/client-session';
import { defaultAuthText, parseAuthData, renameClient } from './auth-data';

@Component({
  selector: 'jmqt-connect-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './connect-form.html',
  styleUrl: './connect-form.css',
})
export class ConnectForm {
  readonly session = input.required<ClientSession>();
  /**
   * Client ids in session in the other tabs. A second session with the same id
   * takes the first over (protocol 5.3), and two tabs that reconnect would take each
   * other over forever, so the name is refused here.
   */
  readonly taken = input<readonly string[]>([]);

  protected readonly id = computed(() => `c${this.session().id}`);
  protected readonly name = linkedSignal(() => this.session().clientName());
  protected readonly touched = signal(false);
  protected readonly busy = computed(() => this.session().connecting());
  protected readonly error = computed(() => {
    const name = this.name().trim();
    if (name === '') return 'Please enter Client name';
    if (this.taken().includes(name)) return `'${name}' is connected in another tab`;
    return null;
  });
  protected readonly invalid = computed(() => this.error() !== null);
  protected readonly showError = computed(() => this.touched() && this.invalid());

  /** The session keeps the field's own text; without one it is the default for the Client Name. */
  protected readonly customAuth = computed(() => this.session().authText() !== null);
  protected readonly authText = computed(() => this.session().authText() ?? defaultAuthText(this.name()));
  protected readonly authData = computed(() => parseAuthData(this.authText()));
  /** Shown at once: broken JSON can never be sent, so Connect waits for a fix. */
  protected readonly authError = computed(() => {
    const result = this.authData();
    return result.ok ? null : result.error;
  });
  protected readonly jwtExample = '{"token": "<JWT>"}';
  protected readonly authRows = computed(() => Math.min(8, Math.max(2, this.authText().split('\n').length)));

  protected updateName(value: string): void {
    const before = this.name();
    this.name.set(value);
    const own = this.session().authText();
    if (own !== null) this.session().authText.set(renameClient(own, before, value));
  }

  protected updateAuth(value: string): void {
    this.session().authText.set(value === defaultAuthText(this.name()) ? null : value);
  }

  protected resetAuth(): void {
    this.session().authText.set(null);
  }

  protected async connect(): Promise<void> {
    this.touched.set(true);
    const auth = this.authData();
    if (this.invalid() || !auth.ok || this.busy()) return;
    await this.session().connect(this.name(), auth.data);
  }
}
