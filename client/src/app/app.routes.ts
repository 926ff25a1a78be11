import type { Routes } from '@angular/router';

/** One page today; lazy, so the shell paints before the console's code arrives. */
export const routes: Routes = [
  { path: '', loadComponent: () => import('./console/console-page').then((m) => m.ConsolePage), title: 'JMQT Dashboard' },
  { path: '**', redirectTo: '' },
];
