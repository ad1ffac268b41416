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
 * (quickselect) puts the lower order statistic in place, and the upper one is the least value
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

/**
 * Reorders `a` so that a[k] is the k-th least value, those before it ≤ it and those after ≥ it;
 * returns a[k]. Median-of-three pivots; a range that has not shrunk by half in a few passes
 * (an adversarial order) is sorted instead, so the worst case stays O(n log n).
 */
function selectInPlace(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  let passes = 0;
  let limit = right - left;
  while (right > left) {
    if (++passes > 4) {
      if (right - left > limit / 2) {
        a.subarray(left, right + 1).sort();
        return a[k];
      }
      passes = 0;
      limit = right - left;
    }
    const mid = (left + right) >>> 1;
    // Order a[left], a[mid], a[right]; the median becomes the pivot.
    if (a[mid] < a[left]) swap(a, mid, left);
    if (a[right] < a[left]) swap(a, right, left);
    if (a[right] < a[mid]) swap(a, right, mid);
    const pivot = a[mid];
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // Now a[left..j] ≤ pivot ≤ a[i..right], and any index between j and i holds the pivot.
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k];
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
