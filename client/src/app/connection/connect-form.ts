/** The original page's first row: "Client Name" and "Connect" (auth with client_name, then conn). */
import { ChangeDetectionStrategy, Component, computed, input, linkedSignal, signal } from '@angular/core';
import type { ClientSession } from '../jmqt/client-session';

@Component({
  selector: 'jmqt-connect-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <form class="toolbar" novalidate (submit)="$event.preventDefault(); connect()">
      <label class="inline-label" [for]="id() + '-name'">Client Name</label>
      <input
        #nameField
        type="text"
        class="grow"
        placeholder="Enter Client name"
        autocomplete="off"
        required
        [id]="id() + '-name'"
        [value]="name()"
        [attr.aria-invalid]="showError()"
        [attr.aria-describedby]="showError() ? id() + '-name-error' : null"
        (input)="name.set(nameField.value)"
        (blur)="touched.set(true)"
      />
      <button type="submit" class="btn primary" [disabled]="busy()">{{ busy() ? 'Connecting…' : 'Connect' }}</button>
    </form>
    @if (showError()) {
      <p class="field-error" [id]="id() + '-name-error'">{{ error() }}</p>
    }
  `,
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
  protected readonly busy = signal(false);
  protected readonly error = computed(() => {
    const name = this.name().trim();
    if (name === '') return 'Please enter Client name';
    if (this.taken().includes(name)) return `'${name}' is connected in another tab`;
    return null;
  });
  protected readonly invalid = computed(() => this.error() !== null);
  protected readonly showError = computed(() => this.touched() && this.invalid());

  protected async connect(): Promise<void> {
    this.touched.set(true);
    if (this.invalid() || this.busy()) return;
    this.busy.set(true);
    try {
      await this.session().connect(this.name());
    } finally {
      this.busy.set(false);
    }
  }
}
