import { RangeQuery, RawSeries, Reader } from '../exporter/read/reader';

export interface SyntheticSeries {
  labels: Record<string, string>;
  level: number;
}

/** A uniform number in [0, 1) from two integers (a 32-bit integer hash): the same sample always gets the same noise. */
function noise(series: number, sample: number): number {
  let h = Math.imul(series ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(sample + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * The bench's source: answers each range query with fresh arrays computed from a formula (a daily
 * cycle around each series' level, with noise), as Prometheus answers with fresh data, so the
 * bench process holds only what the exporter holds, not a copy of the source's 10,000 histories.
 * Samples exist from `firstSeconds` to `lastSeconds`, one per `stepSeconds`. Like the Prometheus
 * reader, the series of one answer share their timestamps array.
 */
export class SyntheticReader implements Reader {
  private readonly byQuery = new Map<string, SyntheticSeries[]>();

  constructor(
    private readonly firstSeconds: number,
    private readonly lastSeconds: number,
    private readonly stepSeconds: number,
  ) {}

  set(query: string, series: SyntheticSeries[]): void {
    this.byQuery.set(query, series);
  }

  /**
   * The series a query selects: a set query, or one narrowed as a sharded replica narrows it
   * (`q{label=~"a|b"}`, exporter/shard/shard-reader.ts), so the bench can run as one replica of several.
   */
  private select(query: string): SyntheticSeries[] {
    const narrowed = /^([A-Za-z_:][\w:]*)\{(.*)\}$/.exec(query);
    if (!narrowed) return this.byQuery.get(query) ?? [];
    let list = this.byQuery.get(narrowed[1]) ?? [];
    for (const m of narrowed[2].matchAll(/(\w+)=~("(?:[^"\\]|\\.)*")/g)) {
      const re = new RegExp(`^(?:${JSON.parse(m[2]) as string})$`);
      list = list.filter((s) => re.test(s.labels[m[1]] ?? ''));
    }
    return list;
  }

  /** `count by (labels) (query)`: one series per group of the selected series, as a replica lists its groups. */
  private groups(query: string, by: string[], from: number, n: number): RawSeries[] {
    const counts = new Map<string, { labels: Record<string, string>; count: number }>();
    for (const s of this.select(query)) {
      const labels = Object.fromEntries(by.map((l) => [l, s.labels[l] ?? '']));
      const key = JSON.stringify(labels);
      const g = counts.get(key) ?? counts.set(key, { labels, count: 0 }).get(key)!;
      g.count++;
    }
    const timestamps = new Float64Array(n);
    for (let j = 0; j < n; j++) timestamps[j] = this.firstSeconds + (from + j) * this.stepSeconds;
    return [...counts.values()].map((g) => ({ labels: g.labels, timestamps, values: new Float64Array(n).fill(g.count) }));
  }

  async queryRange(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]> {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    const step = this.stepSeconds;
    const from = Math.max(0, Math.ceil((q.startSeconds - this.firstSeconds) / step));
    const to = Math.floor((Math.min(q.endSeconds, this.lastSeconds) - this.firstSeconds) / step);
    if (to < from) return [];
    const n = to - from + 1;
    const listing = /^count by \(([^)]*)\) \((.*)\)$/.exec(q.query);
    if (listing)
      return this.groups(
        listing[2],
        listing[1].split(',').map((l) => l.trim()),
        from,
        n,
      );
    const list = this.select(q.query);
    // One time axis for the answer, as the Prometheus reader gives (shareTimestamps).
    const timestamps = new Float64Array(n);
    for (let j = 0; j < n; j++) timestamps[j] = this.firstSeconds + (from + j) * step;
    return list.map((s, k) => {
      const values = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const i = from + j;
        values[j] = s.level * (1 + 0.1 * Math.sin((2 * Math.PI * i) / 1440)) + s.level * 0.02 * (noise(k, i) + noise(k + 0x10000, i) - 1);
      }
      return { labels: s.labels, timestamps, values };
    });
  }
}
