export type CorrelationMethod = 'pearson' | 'spearman';

/** A series' recent samples, ascending in time. */
export interface RecentSamples {
  ts: number[];
  values: number[];
}

/**
 * Scratch for one correlation at a time (scoring is synchronous): every group's pairs are
 * correlated every cycle, 20,000 correlations a cycle at 10,000 series, and arrays made per call
 * were a fifth of an infer cycle's CPU.
 */
let xs = new Float64Array(64);
let ys = new Float64Array(64);
let rankX = new Float64Array(64);
let rankY = new Float64Array(64);
let order = new Uint32Array(64);

/**
 * Correlation of two series over the timestamps they share (an inner join on time), or undefined
 * with fewer than `minSamples` shared samples or when either side is constant there. Spearman's
 * rho is Pearson's over midranks (tied values share the average of the ranks they span), so it
 * does not depend on the order of the pairs.
 */
export function correlate(a: RecentSamples, b: RecentSamples, method: CorrelationMethod, minSamples: number): number | undefined {
  const room = Math.min(a.ts.length, b.ts.length);
  if (xs.length < room) grow(room);
  let n = 0;
  for (let i = 0, j = 0; i < a.ts.length && j < b.ts.length;) {
    if (a.ts[i] < b.ts[j]) i++;
    else if (a.ts[i] > b.ts[j]) j++;
    else {
      xs[n] = a.values[i++];
      ys[n++] = b.values[j++];
    }
  }
  if (n < Math.max(3, minSamples) || isConstant(xs, n) || isConstant(ys, n)) return undefined;
  const r = method === 'pearson' ? pearson(xs, ys, n) : pearson(midranks(xs, n, rankX), midranks(ys, n, rankY), n);
  return Number.isFinite(r) ? Math.max(-1, Math.min(1, r)) : undefined;
}

function grow(n: number): void {
  const size = Math.max(n, 2 * xs.length);
  xs = new Float64Array(size);
  ys = new Float64Array(size);
  rankX = new Float64Array(size);
  rankY = new Float64Array(size);
  order = new Uint32Array(size);
}

/** Pearson's r of the first n pairs: the sample covariance over the product of the standard deviations. */
function pearson(x: Float64Array, y: Float64Array, n: number): number {
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Longest join sorted by insertion (the default 30-minute window at a 15 s step is 120 samples). */
const INSERTION_SORT_MAX = 128;

/** The midranks of the first n values (0-based), into `out`. */
function midranks(values: Float64Array, n: number, out: Float64Array): Float64Array {
  const o = order.subarray(0, n);
  for (let i = 0; i < n; i++) o[i] = i;
  if (n > INSERTION_SORT_MAX) o.sort((p, q) => values[p] - values[q]);
  else {
    // A correlation window is a few dozen samples: an insertion sort beats a sort with a comparator call per comparison.
    for (let i = 1; i < n; i++) {
      const idx = o[i];
      const v = values[idx];
      let j = i - 1;
      while (j >= 0 && values[o[j]] > v) {
        o[j + 1] = o[j];
        j--;
      }
      o[j + 1] = idx;
    }
  }
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && values[o[j + 1]] === values[o[i]]) j++;
    const rank = (i + j) / 2;
    for (let k = i; k <= j; k++) out[o[k]] = rank;
    i = j + 1;
  }
  return out;
}

function isConstant(v: Float64Array, n: number): boolean {
  for (let i = 1; i < n; i++) if (v[i] !== v[0]) return false;
  return true;
}
