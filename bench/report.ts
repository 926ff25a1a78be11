/** Medians, the printed table and the hand-written SVG chart. */
import type { Figures, Metric } from './load';

export const COLUMNS = ['jmqt', 'mosquitto', 'aedes'] as const;
export type Column = (typeof COLUMNS)[number];

export type RunOutcome = Figures | { error: string };

export interface ShapeResult {
  name: string;
  description: string;
  metrics: Metric[];
  runs: Partial<Record<Column, RunOutcome[]>>;
  /** Median of every figure over the successful runs. */
  medians: Partial<Record<Column, Figures>>;
}

export function median(values: number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function medians(runs: RunOutcome[]): Figures | undefined {
  const good = runs.filter((run): run is Figures => !('error' in run));
  if (good.length === 0) return undefined;
  const keys = Object.keys(good[0]);
  return Object.fromEntries(keys.map((key) => [key, median(good.map((run) => run[key]))]));
}

export function format(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function ratio(ours: number | undefined, peer: number | undefined): string {
  if (ours === undefined || peer === undefined || !Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0) return '—';
  return `${(ours / peer).toFixed(2)}×`;
}

/** Runs that lost messages, were refused or failed, for the notes column. */
function notes(result: ShapeResult): string {
  const parts: string[] = [];
  for (const column of COLUMNS) {
    const runs = result.runs[column] ?? [];
    const errors = runs.filter((run) => 'error' in run).length;
    const good = runs.filter((run): run is Figures => !('error' in run));
    const lost = good.reduce((total, run) => total + (run['lost'] ?? 0), 0);
    const refused = good.reduce((total, run) => total + (run['refused'] ?? 0), 0);
    if (errors) parts.push(`${column}: ${errors} failed`);
    if (lost) parts.push(`${column}: ${format(lost)} lost`);
    if (refused) parts.push(`${column}: ${format(refused)} refused`);
  }
  return parts.join('; ');
}

export function table(results: ShapeResult[]): string {
  const header = ['shape', 'metric', ...COLUMNS, 'jmqt/mosq', 'jmqt/aedes', 'notes'];
  const rows: string[][] = [];
  for (const result of results) {
    for (const metric of result.metrics) {
      const value = (column: Column) => result.medians[column]?.[metric.key];
      rows.push([
        result.name,
        `${metric.label} ${metric.higherIsBetter ? '↑' : '↓'}`,
        ...COLUMNS.map((column) => format(value(column))),
        ratio(value('jmqt'), value('mosquitto')),
        ratio(value('jmqt'), value('aedes')),
        metric === result.metrics[0] ? notes(result) : '',
      ]);
    }
  }
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((cell, i) => (i >= 2 && i <= 6 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(' | ') + ' |';
  return [line(header), '|' + widths.map((width, i) => (i >= 2 && i <= 6 ? '-'.repeat(width + 1) + ':' : '-'.repeat(width + 2))).join('|') + '|', ...rows.map(line)].join('\n');
}

const COLORS: Record<Column, string> = { jmqt: '#2f6fdb', mosquitto: '#e07b24', aedes: '#3a9d5d' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Horizontal grouped bars, one group per table row, each group scaled to its own largest value. */
export function svg(results: ShapeResult[], title: string, subtitle: string): string {
  const groups = results.flatMap((result) => result.metrics.map((metric) => ({ result, metric })));
  const labelWidth = 300;
  const barArea = 560;
  const bar = 13;
  const groupHeight = COLUMNS.length * bar + 16;
  const top = 78;
  const width = labelWidth + barArea + 130;
  const height = top + groups.length * groupHeight + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="12" y="40" fill="#555">${escape(subtitle)}</text>`,
  ];
  COLUMNS.forEach((column, i) => {
    const x = 12 + i * 110;
    out.push(`<rect x="${x}" y="52" width="12" height="12" fill="${COLORS[column]}"/>`, `<text x="${x + 17}" y="62">${column}</text>`);
  });
  groups.forEach(({ result, metric }, g) => {
    const y = top + g * groupHeight;
    const values = COLUMNS.map((column) => result.medians[column]?.[metric.key]);
    const max = Math.max(...values.filter((value): value is number => value !== undefined && Number.isFinite(value)), 0);
    if (g % 2 === 0) out.push(`<rect x="0" y="${y - 4}" width="${width}" height="${groupHeight}" fill="#f4f6f9"/>`);
    out.push(`<text x="12" y="${y + 14}" font-weight="bold">${escape(result.name)}</text>`);
    out.push(`<text x="12" y="${y + 28}" fill="#555">${escape(`${metric.label} (${metric.unit}) ${metric.higherIsBetter ? '↑ higher is better' : '↓ lower is better'}`)}</text>`);
    COLUMNS.forEach((column, i) => {
      const value = values[i];
      const by = y + i * bar;
      const length = value !== undefined && Number.isFinite(value) && max > 0 ? Math.max(1, (value / max) * barArea) : 0;
      if (length > 0) out.push(`<rect x="${labelWidth}" y="${by}" width="${length.toFixed(1)}" height="${bar - 2}" fill="${COLORS[column]}"/>`);
      out.push(`<text x="${labelWidth + length + 4}" y="${by + bar - 3}">${escape(value === undefined ? 'n/a' : format(value))}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
