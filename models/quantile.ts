import { quickselect } from 'simple-statistics';

/** Median of sorted values. Cost O(1). */
export function sortedMedian(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Quantile of sorted values, linear between order statistics (Hyndman and Fan type 7, numpy's
 * default). Cost O(1).
 * @example sortedQuantile(Float64Array.of(1, 2, 3, 4), 0.5) // 2.5
 */
export function sortedQuantile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * The same value as sortedQuantile over `values` sorted, without sorting: Hoare's selection
 * (Floyd–Rivest quickselect, from simple-statistics) puts the lower order statistic in place, and the upper one is the least value
 * after it. O(n) on average instead of O(n log n); a band fit takes a quantile of 1,000s of
 * deviations per series and refit. `values` is reordered (pass a scratch copy); -0 and 0 count
 * as equal, and NaN must not occur.
 * @example selectQuantile(Float64Array.of(4, 1, 3, 2), 0.5) // 2.5
 */
export function selectQuantile(values: Float64Array, p: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const low = selectInPlace(values, lo);
  if (lo + 1 >= n) return low;
  let high = Infinity;
  for (let i = lo + 1; i < n; i++) if (values[i] < high) high = values[i];
  return low + (h - lo) * (high - low);
}

/** The same value as sortedMedian over `values` sorted, by selection; `values` is reordered, as in selectQuantile. */
export function selectMedian(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  const upper = selectInPlace(values, mid);
  if (n % 2) return upper;
  // values[0..mid) are now ≤ upper: the lower middle is the largest of them.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (values[i] > lower) lower = values[i];
  return (lower + upper) / 2;
}

/** Reorders `a` so that a[k] is the k-th least value, those before it ≤ it and those after ≥ it; returns a[k]. */
function selectInPlace(a: Float64Array, k: number): number {
  // Floyd–Rivest selection; it only reads and swaps elements, so a typed array serves as well as an array.
  quickselect(a as unknown as number[], k);
  return a[k];
}
