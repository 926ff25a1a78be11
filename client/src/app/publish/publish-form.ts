/**
 * The "Publish" row: Channel name, Message, QoS, Retain, the JSON toggle,
 * Send and Disconnect. Defaults follow the original web client: QoS 1,
 * retain on, the message sent as text. `#clientId` sends to one client
 * (P2P), `$name` asks the server (the answer is logged).
 */
import { ChangeDetectionStrategy, Component, computed, input, signal } from '@angular/core';
import { channelKind } from '../../../../shared/channel';
import type { ClientSession } from '../jmqt/client-session';
import { formatJson, looksLikeJson, parsePayload } from './payload';

@Component({
  selector: 'jmqt-publish-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './publish-form.html',
  styleUrl: './publish-form.css',
})
export class PublishForm {
  readonly session = input.required<ClientSession>();
  /** Channel names offered in the Channel name field (own subscriptions, `#peers`, `$mySubscriptions`). */
  readonly suggestions = input<readonly string[]>([]);

  protected readonly id = computed(() => `c${this.session().id}`);
  protected readonly channel = signal('');
  protected readonly message = signal('');
  protected readonly qos = signal<0 | 1>(1);
  protected readonly retain = signal(true);
  protected readonly asJson = signal(false);
  protected readonly channelTouched = signal(false);
  protected readonly messageTouched = signal(false);
  protected readonly busy = signal(false);

  protected readonly inSession = computed(() => this.session().connection.inSession());
  protected readonly channelError = computed(() => (this.channel().trim() === '' ? 'Please enter a channel' : null));
  protected readonly payload = computed(() => parsePayload(this.message(), this.asJson()));
  protected readonly messageError = computed(() => {
    const payload = this.payload();
    return payload.ok ? null : payload.error;
  });
  /** Parse errors show as soon as there is text; "required" only after the field was left. */
  protected readonly shownMessageError = computed(() => {
    const error = this.messageError();
    if (!error) return null;
    return this.messageTouched() || (this.asJson() && this.message().trim() !== '') ? error : null;
  });
  protected readonly jsonHint = computed(() => !this.asJson() && looksLikeJson(this.message()));
  /** Protocol 6.2: `#` is P2P, `$` a control request, anything else a normal channel. */
  protected readonly kind = computed(() => channelKind(this.channel().trim()));
  /** Protocol 7.9: `#` and `$` channels keep no retained message (the server ignores `rt` there), so retain is off there. */
  protected readonly canRetain = computed(() => this.kind() === 'normal');
  protected readonly effectiveRetain = computed(() => this.canRetain() && this.retain());

  protected async send(): Promise<void> {
    this.channelTouched.set(true);
    this.messageTouched.set(true);
    const payload = this.payload();
    if (this.channelError() || !payload.ok || this.busy()) return;
    this.busy.set(true);
    try {
      await this.session().publish(this.channel(), payload.data, { qos: this.qos(), retain: this.effectiveRetain() });
    } finally {
      this.busy.set(false);
    }
  }

  protected async disconnect(): Promise<void> {
    await this.session().disconnect();
  }

  /** Enter sends a one-line text message; Ctrl/Cmd+Enter sends in JSON mode too. */
  protected onMessageKey(event: KeyboardEvent): void {
    if (event.key !== 'Enter' || event.shiftKey) return;
    if (this.asJson() && !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    void this.send();
  }

  protected formatMessage(): void {
    this.message.set(formatJson(this.message()));
  }

  protected setQos(value: string): void {
    this.qos.set(value === '0' ? 0 : 1);
  }
}
