/**
 * The subscription chips, `<channel> (persistent|temp)` with an `x` that
 * unsubscribes, and "+ New subscription" with its form (Channel Name,
 * Persistent, Subscribe, Cancel), as on the original page.
 */
import { ChangeDetectionStrategy, Component, computed, input, signal } from '@angular/core';
import { channelKind } from '../../../../shared/channel';
import type { ClientSession } from '../jmqt/client-session';

@Component({
  selector: 'jmqt-subscription-bar',
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './subscription-bar.html',
  styleUrl: './subscription-bar.css',
})
export class SubscriptionBar {
  readonly session = input.required<ClientSession>();

  protected readonly id = computed(() => `c${this.session().id}`);
  /** The session's chips; `#` (P2P, protocol 6.4) channels are styled apart. */
  protected readonly chips = computed(() =>
    this.session()
      .subscriptions()
      .map((chip) => ({ ...chip, p2p: channelKind(chip.channel) === 'p2p' })),
  );
  protected readonly formOpen = signal(false);
  protected readonly channel = signal('');
  protected readonly persistent = signal(false);
  protected readonly touched = signal(false);
  protected readonly busy = signal(false);
  protected readonly invalid = computed(() => this.channel().trim() === '');

  protected openForm(): void {
    this.formOpen.set(true);
    this.touched.set(false);
  }

  protected closeForm(): void {
    this.formOpen.set(false);
    this.channel.set('');
    this.persistent.set(false);
    this.touched.set(false);
  }

  protected async subscribe(): Promise<void> {
    this.touched.set(true);
    if (this.invalid() || this.busy()) return;
    const channel = this.channel();
    const persistent = this.persistent();
    this.closeForm();
    this.busy.set(true);
    try {
      await this.session().subscribe(channel, persistent);
    } finally {
      this.busy.set(false);
    }
  }

  protected unsubscribe(channel: string): Promise<boolean> {
    return this.session().unsubscribe(channel);
  }
}
