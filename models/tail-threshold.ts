import { sortedQuantile } from './quantile';

/**
 * Peaks over threshold (Pickands 1975; streaming use as in SPOT, Siffer et al., KDD 2017): the
 * value a score exceeds with probability `risk` per sample, estimated from past scores. The
 * scores above their `TAIL_LEVEL` quantile are taken as the tail and fitted with a generalised
 * Pareto distribution; its quantile at `risk` extrapolates past the largest score seen, so a
 * short history still gives a threshold for a rarity it has not yet observed, and one past
 * incident in the history raises it only as much as one point in the tail weighs.
 */

/** The tail starts at this quantile of the scores (SPOT's initial threshold, 98 %). */
export const TAIL_LEVEL = 0.98;
/** Least number of peaks to fit a tail; with fewer, the largest score stands for the threshold. */
const MIN_PEAKS = 5;
/**
 * The shape is kept within ±0.5: beyond, a handful of peaks is not evidence of an infinite-variance
 * (or a hard-capped) tail, and the extrapolation would swing by orders of magnitude.
 */
const MAX_SHAPE = 0.5;

/**
 * The threshold exceeded with probability `risk` per sample, from scores sorted ascending (the
 * first `n` elements of `sorted` are used). Never below the largest score's TAIL_LEVEL quantile;
 * 0 when there are no scores.
 */
export function tailThreshold(sorted: Float64Array, risk: number, n = sorted.length): number {
  if (n === 0) return 0;
  const view = n === sorted.length ? sorted : sorted.subarray(0, n);
  const t = sortedQuantile(view, TAIL_LEVEL);
  let first = n;
  while (first > 0 && view[first - 1] > t) first--;
  const peaks = n - first;
  // The risk asked for is not in the tail: the plain quantile answers it.
  if (risk * n >= peaks) return sortedQuantile(view, Math.max(0, 1 - risk));
  if (peaks < MIN_PEAKS) return view[n - 1];
  const { shape, scale } = gpdFit(view, first, t);
  const ratio = (risk * n) / peaks;
  const excess = Math.abs(shape) < 1e-6 ? -scale * Math.log(ratio) : (scale / shape) * (Math.pow(ratio, -shape) - 1);
  return t + Math.max(0, excess);
}

/**
 * Generalised Pareto fit of the excesses `sorted[first..] - t` by probability-weighted moments
 * (Hosking & Wallis, Technometrics 1987): closed form, no iteration, robust for small samples.
 * Shape ξ (> 0 heavy tail, 0 exponential, < 0 bounded), scale σ.
 */
export function gpdFit(sorted: ArrayLike<number>, first: number, t: number): { shape: number; scale: number } {
  const m = sorted.length - first;
  let a0 = 0;
  let a1 = 0;
  for (let i = 0; i < m; i++) {
    const y = sorted[first + i] - t;
    a0 += y;
    // (1 - F) at the i-th smallest excess, with Hosking's plotting position (i + 0.65) / m.
    a1 += y * (1 - (i + 0.65) / m);
  }
  a0 /= m;
  a1 /= m;
  const d = a0 - 2 * a1;
  if (!(d > 0) || !(a0 > 0)) return { shape: 0, scale: Math.max(a0, 0) };
  // Hosking's k is -ξ.
  const k = a0 / d - 2;
  const shape = Math.max(-MAX_SHAPE, Math.min(MAX_SHAPE, -k));
  // A clipped shape keeps the excesses' mean, σ / (1 - ξ).
  const scale = shape === -k ? (2 * a0 * a1) / d : a0 * (1 - shape);
  return { shape, scale: scale > 0 ? scale : a0 };
}
