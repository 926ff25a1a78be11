/**
 * Broker address and TLS for the connections made from now on. Default: the
 * page's own host (the broker serves this page), `wss:` when the page came over https.
 */
import { ChangeDetectionStrategy, Component, computed, inject, linkedSignal } from '@angular/core';
import { DefaultPorts } from '../../../../shared/keys';
import { BrokerAddress } from '../jmqt/broker-address';

/** Protocol 1.1 default ports: switching TLS on the plain WebSocket port moves to the TLS one, and back. */
export function swapDefaultPort(host: string, secure: boolean): string {
  const [from, to] = secure ? [DefaultPorts.webSocket, DefaultPorts.sslWebSocket] : [DefaultPorts.sslWebSocket, DefaultPorts.webSocket];
  return host.endsWith(`:${from}`) ? `${host.slice(0, -String(from).length)}${to}` : host;
}

@Component({
  selector: 'jmqt-broker-address-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <form class="address" (submit)="$event.preventDefault(); apply()">
      <label class="inline-label" for="broker-host">Broker address</label>
      <input
        #hostField
        id="broker-host"
        type="text"
        autocomplete="off"
        spellcheck="false"
        placeholder="host:port"
        [value]="host()"
        (input)="host.set(hostField.value)"
      />
      <label class="check">
        <input #tlsBox type="checkbox" [checked]="secure()" (change)="toggleTls(tlsBox.checked)" />
        TLS (wss)
      </label>
      <button type="submit" class="btn small secondary" [disabled]="!changed()">Apply</button>
      @if (!address.isDefault()) {
        <button type="button" class="btn small ghost" (click)="reset()">Default</button>
      }
      <span class="url mono" title="Used by connections made from now on">{{ address.url() }}</span>
    </form>
  `,
  styles: `
    .address { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
    .address input[type='text'] { width: 15rem; }
    .url { color: var(--header-muted); font-size: 0.8rem; }
    .inline-label, .check { color: var(--header-fg); }
  `,
})
export class BrokerAddressForm {
  protected readonly address = inject(BrokerAddress);
  protected readonly host = linkedSignal(() => this.address.host());
  protected readonly secure = linkedSignal(() => this.address.secure());
  protected readonly changed = computed(() => this.host().trim() !== this.address.host() || this.secure() !== this.address.secure());

  protected toggleTls(secure: boolean): void {
    this.secure.set(secure);
    this.host.set(swapDefaultPort(this.host().trim(), secure));
  }

  protected apply(): void {
    this.address.set(this.host(), this.secure());
  }

  protected reset(): void {
    this.address.reset();
  }
}
