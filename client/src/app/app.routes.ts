/** The dashboard's routes: one page today, lazy, so the shell paints before the console's code arrives. */
import type { Routes } from '@angular/router';

export const routes: Routes = [
  { path: '', loadComponent: () => import('./console/console-page').then((m) => m.ConsolePage), title: 'JMQT Dashboard' },
  { path: '**', redirectTo: '' },
];
