/** Specs of AuthAckView: the whole authAck, status by name and number. */
import { ChangeDetectionStrategy, Component, provideZonelessChangeDetection, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import type { AuthAnswer } from '../../../../shared/client';
import { AuthAckView } from './auth-ack-view';

@Component({
  imports: [AuthAckView],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<jmqt-auth-ack-view [answer]="answer()" idPrefix="c1-auth-ack" />`,
})
class Host {
  readonly answer = signal<AuthAnswer>({ status: 1, clientId: 'alice', token: 'MTc.YWxpY2U.sig' });
}

describe('AuthAckView', () => {
  it('shows status by name and number, client id, token and message, as a region named "Last authAck"', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(Host);
    const element = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    const section = element.querySelector('section')!;
    const title = element.querySelector('h3')!;
    expect(title.textContent!.trim()).toBe('Last authAck');
    expect(section.getAttribute('aria-labelledby')).toBe(title.id);
    const facts = () => Array.from(element.querySelectorAll('dl div')).map((row) => `${row.querySelector('dt')!.textContent!.trim()} ${row.querySelector('dd')!.textContent!.trim()}`);
    expect(facts()).toEqual(['Status OK (1)', 'Client ID alice', 'Token MTc.YWxpY2U.sig', 'Message —']);
    expect(element.querySelector('.status')!.classList).toContain('ok');

    fixture.componentInstance.answer.set({ status: 7, message: 'wrong password' });
    await fixture.whenStable();
    expect(facts()).toEqual(['Status NOT_ALLOWED (7)', 'Client ID —', 'Token —', 'Message wrong password']);
    expect(element.querySelector('.status')!.classList).not.toContain('ok');
  });
});
