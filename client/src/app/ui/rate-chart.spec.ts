/** Specs of RateChart: one polyline per series, the 1-2-5 axis maximum and the latest values. */
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { RateChart } from './rate-chart';

describe('RateChart', () => {
  it('draws one polyline per series with a 1-2-5 axis maximum and the latest values', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(RateChart);
    fixture.componentRef.setInput('title', 'Messages per second');
    fixture.componentRef.setInput('slots', 3);
    fixture.componentRef.setInput('series', [
      { label: 'in', points: [0, 30, 60], color: 'red' },
      { label: 'out', points: [1500], color: 'blue' },
    ]);
    await fixture.whenStable();
    const element = fixture.nativeElement as HTMLElement;
    const lines = Array.from(element.querySelectorAll('polyline'));
    expect(lines.length).toBe(2);
    expect(lines[0].getAttribute('stroke')).toBe('red');
    expect(lines[1].getAttribute('points')).toBe('300,25');
    expect(element.querySelector('.max')!.textContent).toBe('2k/s');
    expect(element.querySelector('svg')!.getAttribute('aria-label')).toBe('Messages per second: in 60 per second, out 1.5k per second');
  });
});
