/** Shell of the JMQT operator dashboard: header with the broker address, the routed page below. */
import { ChangeDetectionStrategy, Component, signal } from '@angular/core';
import { RouterOutlet } from '@angular/router';
import { BrokerAddressForm } from './connection/broker-address-form';

@Component({
  selector: 'jmqt-root',
  imports: [BrokerAddressForm, RouterOutlet],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  protected readonly title = signal('JMQT Dashboard');
}
