/**
 * What the fuzzer sent, counted per attack and per kind of input
 * (`junk` → `garbage: 812, mutated: 2040, ...`), for the progress lines and
 * the summary.
 */
export class Tally {
  private readonly counts = new Map<string, Map<string, number>>();

  add(attack: string, kind: string, amount = 1): void {
    let kinds = this.counts.get(attack);
    if (!kinds) this.counts.set(attack, (kinds = new Map()));
    kinds.set(kind, (kinds.get(kind) ?? 0) + amount);
  }

  get(attack: string, kind?: string): number {
    const kinds = this.counts.get(attack);
    if (!kinds) return 0;
    if (kind !== undefined) return kinds.get(kind) ?? 0;
    let total = 0;
    for (const count of kinds.values()) total += count;
    return total;
  }

  /** `{ attack: { kind: count } }`, sorted by name. */
  snapshot(): Record<string, Record<string, number>> {
    const result: Record<string, Record<string, number>> = {};
    for (const attack of [...this.counts.keys()].sort()) {
      result[attack] = Object.fromEntries([...this.counts.get(attack)!].sort(([a], [b]) => a.localeCompare(b)));
    }
    return result;
  }

  /** One line per attack: `junk (5321): garbage 812, mutated 2040, ...`. */
  lines(): string[] {
    return Object.entries(this.snapshot()).map(([attack, kinds]) => {
      const total = Object.values(kinds).reduce((sum, count) => sum + count, 0);
      return `${attack} (${total}): ${Object.entries(kinds).map(([kind, count]) => `${kind} ${count}`).join(', ')}`;
    });
  }
}
