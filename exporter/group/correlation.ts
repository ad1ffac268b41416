import { sampleCorrelation, sampleRankCorrelation } from 'simple-statistics';

export type CorrelationMethod = 'pearson' | 'spearman';

/** A series' recent samples, ascending in time. */
export interface RecentSamples {
  ts: number[];
  values: number[];
}

/**
 * Correlation of two series over the timestamps they share (an inner join on time), or undefined
 * with fewer than `minSamples` shared samples or when either side is constant there.
 * Pearson and Spearman via simple-statistics, which needs plain arrays (on typed arrays its rank
 * correlation returns NaN).
 */
export function correlate(a: RecentSamples, b: RecentSamples, method: CorrelationMethod, minSamples: number): number | undefined {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0, j = 0; i < a.ts.length && j < b.ts.length;) {
    if (a.ts[i] < b.ts[j]) i++;
    else if (a.ts[i] > b.ts[j]) j++;
    else {
      x.push(a.values[i++]);
      y.push(b.values[j++]);
    }
  }
  if (x.length < Math.max(3, minSamples) || isConstant(x) || isConstant(y)) return undefined;
  const r = method === 'pearson' ? sampleCorrelation(x, y) : sampleRankCorrelation(x, y);
  return Number.isFinite(r) ? Math.max(-1, Math.min(1, r)) : undefined;
}

function isConstant(v: number[]): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}
