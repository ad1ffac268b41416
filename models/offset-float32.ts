/**
 * Samples kept in half the memory: each as a Float32 offset from a Float64 base near the series'
 * level (bench/model-cost.ts, docs/scaling.md). Plain Float32 would not do: its 24-bit mantissa
 * keeps about 7 significant digits of the value, so a series near 1.7e9 (a timestamp-like gauge)
 * would be kept to ±64 while it moves by 1. As an offset, a sample is kept to within 2^-24 of its
 * distance from the base, so:
 *  - a flat series is kept exactly (its offsets are 0), and the band of a flat history stays
 *    exact, however narrow;
 *  - a sample's error is at most 6e-8 of its distance from the base; with the base moved to the
 *    series' newest sample now and then (`rebase`), that distance is the series' own movement,
 *    not its level.
 * NaN and ±Infinity are kept as they are. Pure: no allocation but what the caller asks for.
 */

/** A store's base: NaN until the first finite sample, which becomes it. */
export interface OffsetStore {
  values: Float32Array;
  base: number;
}

/** Keeps `v` at `i`; the first finite sample of the store becomes its base. */
export function putOffset(s: OffsetStore, i: number, v: number): void {
  if (Number.isNaN(s.base) && Number.isFinite(v)) s.base = v;
  // Before any finite sample only NaN and ±Infinity come, which need no base.
  s.values[i] = Number.isNaN(s.base) ? v : v - s.base;
}

/** The sample kept at `i` (NaN and ±Infinity as they came). */
export function getOffset(s: OffsetStore, i: number): number {
  return Number.isNaN(s.base) ? s.values[i] : s.values[i] + s.base;
}

/** Writes the samples kept at [from, to) into `out` from `at`, as Float64. */
export function decodeOffsets(s: OffsetStore, from: number, to: number, out: Float64Array, at = 0): Float64Array {
  const base = Number.isNaN(s.base) ? 0 : s.base;
  const v = s.values;
  for (let i = from; i < to; i++) out[at + i - from] = v[i] + base;
  return out;
}

/**
 * Moves the base to `base` (finite), re-keeping samples [from, to) against it: each sample gains
 * at most one more rounding, at most 2^-24 of its distance from the new base. A base left far
 * behind by a drifting series would otherwise cost precision for as long as the store lives.
 */
export function rebase(s: OffsetStore, base: number, from = 0, to = s.values.length): void {
  if (Number.isNaN(s.base) || !Number.isFinite(base) || base === s.base) {
    if (Number.isNaN(s.base) && Number.isFinite(base)) s.base = base;
    return;
  }
  const v = s.values;
  const shift = s.base - base;
  for (let i = from; i < to; i++) v[i] = v[i] + shift;
  s.base = base;
}
