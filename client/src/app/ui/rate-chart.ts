/**
 * A hand-drawn SVG line chart of rates per second: one polyline per series
 * on a fixed number of slots, newest at the right, axis maximum rounded to
 * 1/2/5 × 10^k. Labels are HTML over the SVG so they do not stretch.
 */
import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { compactNumber, niceCeiling } from './rate-series';

export interface ChartSeries {
  label: string;
  /** Oldest first. */
  points: readonly number[];
  /** CSS colour, e.g. `var(--accent)`. */
  color: string;
}

const WIDTH = 300;
const HEIGHT = 100;

/** SVG `points` of one series drawn on `slots` slots against `max`, right-aligned. */
export function polylinePoints(points: readonly number[], slots: number, max: number, width = WIDTH, height = HEIGHT): string {
  const step = width / Math.max(1, slots - 1);
  const offset = slots - points.length;
  return points
    .map((value, index) => {
      const x = (offset + index) * step;
      const y = height - (Math.min(value, max) / max) * height;
      return `${round(x)},${round(y)}`;
    })
    .join(' ');
}

const round = (value: number) => Math.round(value * 10) / 10;

@Component({
  selector: 'jmqt-rate-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <figure class="chart" [style.height.px]="height()">
      <figcaption class="legend">
        <span class="title">{{ title() }}</span>
        @for (series of series(); track series.label) {
          <span class="key"><i [style.background]="series.color"></i>{{ series.label }} <b>{{ latest(series) }}</b>/s</span>
        }
      </figcaption>
      <div class="plot">
        <span class="max">{{ maxLabel() }}/s</span>
        <svg [attr.viewBox]="'0 0 ' + width + ' ' + plotHeight" preserveAspectRatio="none" role="img" [attr.aria-label]="summary()">
          @for (y of grid; track y) {
            <line [attr.x1]="0" [attr.x2]="width" [attr.y1]="y * plotHeight" [attr.y2]="y * plotHeight" class="grid" />
          }
          @for (line of lines(); track line.label) {
            <polyline [attr.points]="line.points" [attr.stroke]="line.color" class="series" />
          }
        </svg>
      </div>
    </figure>
  `,
  styles: `
    :host { display: block; }
    .chart { margin: 0; display: flex; flex-direction: column; gap: 4px; }
    .legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 0.75rem; color: var(--muted); align-items: baseline; }
    .title { font-weight: 600; color: var(--text); margin-right: auto; }
    .key i { display: inline-block; width: 10px; height: 3px; border-radius: 2px; vertical-align: middle; margin-right: 4px; }
    .key b { color: var(--text); font-variant-numeric: tabular-nums; }
    .plot { position: relative; flex: 1; min-height: 0; border-left: 1px solid var(--border); border-bottom: 1px solid var(--border); }
    .max { position: absolute; top: 0; left: 4px; font-size: 0.7rem; color: var(--muted); }
    svg { display: block; width: 100%; height: 100%; }
    .grid { stroke: var(--border); stroke-dasharray: 2 3; vector-effect: non-scaling-stroke; }
    .series { fill: none; stroke-width: 1.75; stroke-linejoin: round; vector-effect: non-scaling-stroke; }
  `,
})
export class RateChart {
  readonly title = input('Messages per second');
  readonly series = input.required<readonly ChartSeries[]>();
  /** Samples across the width. */
  readonly slots = input(60);
  /** Total height in px, legend included. */
  readonly height = input(120);

  protected readonly width = WIDTH;
  protected readonly plotHeight = HEIGHT;
  protected readonly grid = [0.25, 0.5, 0.75];
  protected readonly max = computed(() => niceCeiling(Math.max(0, ...this.series().flatMap((series) => series.points))));
  protected readonly maxLabel = computed(() => compactNumber(this.max()));
  protected readonly lines = computed(() =>
    this.series().map((series) => ({ label: series.label, color: series.color, points: polylinePoints(series.points, this.slots(), this.max()) })),
  );
  protected readonly summary = computed(() =>
    `${this.title()}: ` + this.series().map((series) => `${series.label} ${this.latest(series)} per second`).join(', '),
  );

  protected latest(series: ChartSeries): string {
    return compactNumber(series.points.at(-1) ?? 0);
  }
}
