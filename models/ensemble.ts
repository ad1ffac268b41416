import { Scores } from './types';

export type CombineMethod = 'max' | 'mean' | 'median';

export interface EnsembleRow {
  score: number;
  expected: number;
  lower: number;
  upper: number;
}

/**
 * Combines the fitted detectors' scores per row: `parts` give the score, `bandParts` the expected
 * value and band (statistical detectors; others are skipped). `max`: anomalous when any detector is, and the
 * band is the intersection of the statistical bands (the tightest, consistent with max). `median`:
 * anomalous when most detectors are (with three, two must agree), with the average band. `mean`:
 * the average score and the average band. Detectors without a band (the isolation forest) add
 * their score only. Expected value and band are NaN when no statistical detector is fitted.
 */
export function combineScores(
  parts: Scores[],
  method: CombineMethod,
  rows: number,
  bandParts: Scores[] = parts,
): { score: Float64Array; expected: Float64Array; lower: Float64Array; upper: Float64Array } {
  const score = new Float64Array(rows);
  const expected = new Float64Array(rows).fill(NaN);
  const lower = new Float64Array(rows).fill(NaN);
  const upper = new Float64Array(rows).fill(NaN);
  const banded = bandParts.filter((p) => p.expected && p.lower && p.upper);
  const scratch = new Float64Array(parts.length);
  for (let r = 0; r < rows; r++) {
    if (parts.length === 0) {
      // no score
    } else if (method === 'median') {
      for (let k = 0; k < parts.length; k++) scratch[k] = parts[k].score[r];
      scratch.sort();
      const m = parts.length >> 1;
      score[r] = parts.length % 2 ? scratch[m] : (scratch[m - 1] + scratch[m]) / 2;
    } else {
      let s = 0;
      for (const p of parts) s = method === 'max' ? Math.max(s, p.score[r]) : s + p.score[r];
      score[r] = method === 'max' ? s : s / parts.length;
    }
    if (banded.length === 0) continue;
    let e = 0;
    let lo = method === 'max' ? -Infinity : 0;
    let hi = method === 'max' ? Infinity : 0;
    for (const p of banded) {
      e += p.expected![r];
      if (method === 'max') {
        lo = Math.max(lo, p.lower![r]);
        hi = Math.min(hi, p.upper![r]);
      } else {
        lo += p.lower![r];
        hi += p.upper![r];
      }
    }
    expected[r] = e / banded.length;
    if (method !== 'max') {
      lo /= banded.length;
      hi /= banded.length;
    }
    // Bands that do not overlap intersect to nothing: fall back to the expected value itself.
    lower[r] = lo <= hi ? lo : expected[r];
    upper[r] = lo <= hi ? hi : expected[r];
  }
  return { score, expected, lower, upper };
}
