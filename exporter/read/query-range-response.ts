import { RawSeries } from './reader';

/** Stable identity of a label set: sorted `name="value"` pairs. */
export function labelKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

/** Joins the pieces of a split range query per series, in time order. */
export function mergeSeries(pieces: RawSeries[][]): RawSeries[] {
  const byKey = new Map<string, { labels: Record<string, string>; parts: RawSeries[] }>();
  for (const piece of pieces) {
    for (const s of piece) {
      const key = labelKey(s.labels);
      const entry = byKey.get(key) ?? { labels: s.labels, parts: [] };
      entry.parts.push(s);
      byKey.set(key, entry);
    }
  }
  const out: RawSeries[] = [];
  // Pieces share their time grids (the parser does that), so the joined grids are shared too:
  // one join per distinct sequence of piece grids, not one per series.
  const gridIds = new Map<Float64Array, number>();
  const joinedGrids = new Map<string, Float64Array>();
  for (const { labels, parts } of byKey.values()) {
    if (parts.length === 1) {
      out.push(parts[0]);
      continue;
    }
    const n = parts.reduce((a, p) => a + p.values.length, 0);
    const gridKey = parts.map((p) => gridIds.get(p.timestamps) ?? gridIds.set(p.timestamps, gridIds.size).size - 1).join(',');
    let timestamps = joinedGrids.get(gridKey);
    if (!timestamps) {
      timestamps = new Float64Array(n);
      let o = 0;
      for (const p of parts) {
        timestamps.set(p.timestamps, o);
        o += p.timestamps.length;
      }
      joinedGrids.set(gridKey, timestamps);
    }
    const values = new Float64Array(n);
    let o = 0;
    for (const p of parts) {
      values.set(p.values, o);
      o += p.values.length;
    }
    out.push({ labels, timestamps, values });
  }
  return out;
}

/**
 * Makes series whose sample times are identical share one timestamps array (the readers' arrays
 * are never written to). The series of one range query are evaluated at the same steps, so at
 * 10,000 series of 1,440 points this halves what a refit's read holds (115 MB of times → 12 KB).
 */
export function shareTimestamps(series: RawSeries[]): RawSeries[] {
  const distinct: Float64Array[] = [];
  return series.map((s) => {
    const same = distinct.find((t) => sameTimes(t, s.timestamps));
    if (same) return same === s.timestamps ? s : { ...s, timestamps: same };
    // A few distinct grids at most (series with gaps); do not let a ragged answer cost O(n²).
    if (distinct.length < 8) distinct.push(s.timestamps);
    return s;
  });
}

function sameTimes(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The label a metric name is published under when one answer holds several names. */
export const NAME_LABEL = 'name';

/**
 * `__name__` goes when every series of an answer has the same metric name (or none), as before:
 * the signal names what they measure. When an answer mixes names (`{__name__=~"a|b"}`, `a or b`),
 * dropping it would merge series that differ only by name, so it stays, as the label `name`
 * (`metric_name` when the series has a `name` label already): `__` names are reserved in the
 * exposition format.
 */
export function keepNamesWhenMixed(pieces: RawSeries[][]): RawSeries[][] {
  // Decided over every piece of a split range at once, so one series is labelled alike in all.
  const names = new Set<string>();
  for (const piece of pieces) for (const s of piece) if (s.labels.__name__ !== undefined) names.add(s.labels.__name__);
  for (const s of pieces.flat()) {
    const name = s.labels.__name__;
    if (name === undefined) continue;
    delete s.labels.__name__;
    if (names.size > 1) s.labels[s.labels[NAME_LABEL] === undefined ? NAME_LABEL : 'metric_name'] = name;
  }
  return pieces;
}
