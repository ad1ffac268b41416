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
