/**
 * The dashboard page: client tabs ("+ Client" adds an independent
 * connection), shown one at a time or side by side, and the broker panel.
 */
import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { BrokerPanel } from '../broker/broker-panel';
import { STATE_LABELS } from '../connection/connection-status';
import { ClientSession } from '../jmqt/client-session';
import { JmqtService } from '../jmqt/jmqt.service';
import { ClientConsole } from './client-console';

/** The original page's default client name; further tabs count on. */
export function defaultClientName(id: number): string {
  return id === 1 ? 'webclient' : `webclient${id}`;
}

@Component({
  selector: 'jmqt-console-page',
  imports: [BrokerPanel, ClientConsole],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './console-page.html',
  styleUrl: './console-page.css',
})
export class ConsolePage {
  private readonly jmqt = inject(JmqtService);
  private nextId = 1;

  protected readonly sessions = signal<readonly ClientSession[]>([]);
  protected readonly activeId = signal(1);
  protected readonly sideBySide = signal(false);
  protected readonly showBroker = signal(true);
  protected readonly stateLabels = STATE_LABELS;
  /** Client ids in session, offered to each tab as `#peer` P2P channels. */
  protected readonly peers = computed(() =>
    this.sessions()
      .filter((session) => session.active())
      .map((session) => session.connection.clientId())
      .filter((id): id is string => id !== null),
  );

  constructor() {
    this.addClient();
    inject(DestroyRef).onDestroy(() => this.sessions().forEach((session) => session.destroy()));
  }

  protected addClient(): void {
    const id = this.nextId++;
    const title = `Client ${id}`;
    const session = new ClientSession(id, title, this.jmqt.createClient(), defaultClientName(id));
    this.sessions.update((sessions) => [...sessions, session]);
    this.activeId.set(id);
  }

  protected closeClient(session: ClientSession): void {
    const sessions = this.sessions();
    const index = sessions.indexOf(session);
    const rest = sessions.filter((other) => other !== session);
    this.sessions.set(rest);
    if (this.activeId() === session.id && rest.length > 0) this.activeId.set(rest[Math.max(0, index - 1)].id);
    session.destroy();
  }

  protected selectTab(id: number): void {
    this.activeId.set(id);
  }

  /** WAI-ARIA tabs: arrows, Home and End move between tabs. */
  protected onTabKey(event: KeyboardEvent, index: number): void {
    const sessions = this.sessions();
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: sessions.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = sessions[(target + sessions.length) % sessions.length];
    this.activeId.set(next.id);
    (document.getElementById(`tab-${next.id}`) as HTMLElement | null)?.focus();
  }
}
