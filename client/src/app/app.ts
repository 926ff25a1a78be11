import { ChangeDetectionStrategy, Component, signal } from '@angular/core';

/** Root shell of the JMQT operator dashboard; feature folders plug in here later. */
@Component({
  selector: 'jmqt-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  protected readonly title = signal('JMQT Dashboard');
}
