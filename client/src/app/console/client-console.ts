/** One client tab: connection status, Connect or the Publish row, subscription chips, the last authAck, and the log. */
import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { channelKind, p2pChannel } from '../../../../shared/channel';
import { AuthAckView } from '../connection/auth-ack-view';
import { ConnectForm } from '../connection/connect-form';
import { ConnectionStatus } from '../connection/connection-status';
import { TokenConnectForm } from '../connection/token-connect-form';
import type { ClientSession } from '../jmqt/client-session';
import { LogView } from '../log/log-view';
import { PublishForm } from '../publish/publish-form';
import { SubscriptionBar } from '../subscriptions/subscription-bar';

@Component({
  selector: 'jmqt-client-console',
  imports: [AuthAckView, ConnectForm, ConnectionStatus, LogView, PublishForm, SubscriptionBar, TokenConnectForm],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="card controls">
      <jmqt-connection-status [session]="session()" />
      <div class="divider"></div>
      @if (session().active()) {
        <jmqt-publish-form [session]="session()" [suggestions]="suggestions()" />
        <jmqt-subscription-bar [session]="session()" />
      } @else {
        <jmqt-connect-form [session]="session()" [taken]="otherPeers()" />
        <jmqt-token-connect-form [session]="session()" [taken]="otherPeers()" />
      }
      @if (session().lastAuthAck(); as answer) {
        <jmqt-auth-ack-view [answer]="answer" [idPrefix]="'c' + session().id + '-auth-ack'" />
      }
    </div>
    <jmqt-log-view class="card log" [store]="session().log" [idPrefix]="'c' + session().id + '-log'" />
  `,
  styles: `
    :host { display: flex; flex-direction: column; gap: 12px; min-height: 0; min-width: 0; }
    .controls { display: flex; flex-direction: column; gap: 12px; }
    .divider { border-top: 1px solid var(--border); margin: 0 -16px; }
    .log { flex: 1; min-height: 280px; }
  `,
})
export class ClientConsole {
  readonly session = input.required<ClientSession>();
  /** Client ids of the other tabs, offered as `#peer` channels. */
  readonly peers = input<readonly string[]>([]);

  /** Client ids in session in the other tabs. */
  protected readonly otherPeers = computed(() => {
    const own = this.session().active() ? this.session().connection.clientId() : null;
    return this.peers().filter((peer) => peer !== own);
  });
  protected readonly suggestions = computed(() => {
    const own = this.session().connection.clientId();
    const channels = this.session()
      .subscriptions()
      .map((chip) => chip.channel)
      .filter((channel) => channelKind(channel) !== 'p2p');
    const peers = this.peers()
      .filter((peer) => peer !== own)
      .map(p2pChannel);
    return [...new Set([...channels, ...peers, '$mySubscriptions'])];
  });
}
