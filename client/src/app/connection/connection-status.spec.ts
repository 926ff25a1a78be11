/** Specs of ConnectionStatus: state, the Connected line, heartbeat age and idle timeout. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ClientSession } from '../jmqt/client-session';
import { LogStore } from '../jmqt/log-store';
import { FakeBroker, fakeConnection, until } from '../jmqt/testing/fake-broker';
import { ConnectionStatus } from './connection-status';

@Component({
  imports: [ConnectionStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<jmqt-connection-status [session]="session" />`,
})
class Host {
  readonly broker = new FakeBroker();
  readonly session = new ClientSession(1, 'Client 1', fakeConnection(this.broker), 'webclient', { sampleMs: 0, log: new LogStore(100, 0) });
}

describe('ConnectionStatus', () => {
  it('shows the state, the original Connected line, heartbeat age and idle timeout', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    const element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    expect(element.querySelector('[role="status"]')!.textContent!.trim()).toBe('Disconnected');
    expect(element.textContent).toContain("Enter a client name and click 'connect'");

    const { session, broker } = fixture.componentInstance;
    await session.connect('alice');
    await fixture.whenStable();
    expect(element.querySelector('[role="status"]')!.textContent!.trim()).toBe('Connected');
    expect(element.textContent).toContain("Connected: Client ID - 'alice', Client Name - 'alice'");
    expect(element.textContent).toContain('no hbAck yet');
    expect(element.textContent).toContain('15 s');
    expect(element.textContent).toContain('ws://broker.test/');

    broker.last.deliver({ hbAck: {} });
    await until(() => session.connection.lastHeartbeatAt() !== null);
    await fixture.whenStable();
    expect(element.textContent).toMatch(/Heartbeat\s*0 s ago/);
    session.destroy();
  });

  it('names no client name after Connect with token', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    const element = fixture.nativeElement as HTMLElement;
    const { session } = fixture.componentInstance;
    await session.connectWithToken('dave', 'token-dave');
    await fixture.whenStable();
    expect(element.querySelector('.status-line')!.textContent!.trim()).toBe("Connected: Client ID - 'dave'");
    session.destroy();
  });
});
