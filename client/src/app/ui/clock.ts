/** A signal of the current time that moves once a second: for "3 s ago" labels. */
import { DestroyRef, Injectable, inject, signal } from '@angular/core';

@Injectable({ providedIn: 'root' })
export class Clock {
  private readonly value = signal(Date.now());
  readonly now = this.value.asReadonly();

  constructor() {
    const timer = setInterval(() => this.value.set(Date.now()), 1000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }
}

/** `12 s`, `3 min`, `2 h` since `at`; `—` when never. */
export function ageLabel(at: number | null, now: number): string {
  if (at === null) return '—';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
