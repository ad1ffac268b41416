/**
 * Splits [start, end] at `step` into ranges of at most `maxPoints` points each, aligned so that
 * the pieces' points are exactly the points of the whole range (no overlap, no gap).
 * Prometheus refuses a query_range of more than 11,000 points per series.
 */
export function splitRange(startSeconds: number, endSeconds: number, stepSeconds: number, maxPoints: number): [number, number][] {
  if (!(stepSeconds > 0)) throw new RangeError('step must be positive');
  if (maxPoints < 1) throw new RangeError('maxPoints must be at least 1');
  const total = Math.floor((endSeconds - startSeconds) / stepSeconds + 1e-9) + 1;
  const out: [number, number][] = [];
  for (let first = 0; first < total; first += maxPoints) {
    const last = Math.min(total, first + maxPoints) - 1;
    out.push([startSeconds + first * stepSeconds, startSeconds + last * stepSeconds]);
  }
  return out;
}
