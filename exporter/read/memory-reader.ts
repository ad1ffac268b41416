import { RangeQuery, RawSeries, Reader, ReaderError } from './reader';

export interface MemorySeries {
  labels: Record<string, string>;
  /** Seconds, ascending. */
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * Serves range queries from series held in memory, keyed by the query text. Used by the
 * benchmark and by backtests, so that they run the live pipeline's own code over history.
 * A point is returned when its timestamp falls in [start, end]; like Prometheus, a series with
 * no point in the range is not returned at all.
 */
export class MemoryReader implements Reader {
  private readonly data = new Map<string, MemorySeries[]>();

  set(query: string, series: MemorySeries[]): void {
    this.data.set(query, series);
  }

  async queryRange(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]> {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    const out: RawSeries[] = [];
    for (const s of this.data.get(q.query) ?? []) {
      const lo = firstIndex(s.timestamps, (t) => t >= q.startSeconds);
      const hi = firstIndex(s.timestamps, (t) => t > q.endSeconds);
      if (hi <= lo) continue;
      if (q.keep && !q.keep(s.labels)) continue;
      out.push({ labels: s.labels, timestamps: s.timestamps.subarray(lo, hi), values: s.values.subarray(lo, hi) });
      if (q.maxSeries !== undefined && out.length > q.maxSeries)
        throw new ReaderError('too_many_series', `signal ${q.signal}: more than ${q.maxSeries} series (${q.limitName ?? 'the series limit'}): refused`);
    }
    return out;
  }
}

/** The first index whose value satisfies `after` (a predicate false then true along the array). */
function firstIndex(a: Float64Array, after: (t: number) => boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (after(a[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
