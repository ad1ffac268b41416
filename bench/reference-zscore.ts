/**
 * The reference a Prometheus user writes by hand: the 1-day z-score
 * `|x − avg_over_time(x[1d])| / stddev_over_time(x[1d])`, alerting beyond K σ, as the score
 * `|z| / K` (so > 1 alerts). Causal: row i is compared with the previous day's rows (i excluded),
 * and scores 0 until at least 30 of them exist. The day is `max(30, round(86400 / step))` rows, step
 * being the file's mean interval. A zero deviation scores 10 when the value differs from the mean.
 * This is our own implementation of the definition in `../shared/detect/README.md`; the detection
 * bench checks that it reproduces the figures given there.
 */
export function referenceZScore(times: ArrayLike<number>, values: ArrayLike<number>, k = 3): Float64Array {
  const n = values.length;
  const step = n > 1 ? (times[n - 1] - times[0]) / (n - 1) : 60;
  const day = Math.max(30, Math.round(86400 / step));
  const out = new Float64Array(n);
  // Running sums over the window [i - day, i - 1].
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const count = Math.min(i, day);
    if (count >= 30) {
      const mean = sum / count;
      const sd = Math.sqrt(Math.max(0, sumSq / count - mean * mean));
      out[i] = sd > 0 ? Math.abs(values[i] - mean) / sd / k : values[i] !== mean ? 10 : 0;
    }
    sum += values[i];
    sumSq += values[i] * values[i];
    if (i >= day) {
      sum -= values[i - day];
      sumSq -= values[i - day] * values[i - day];
    }
  }
  return out;
}
