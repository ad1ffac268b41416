import { ScoreOptions } from './types';

/**
 * The common score scale (DESIGN.md): 0 at the expected value, 1 at the band edge, > 1 outside.
 * The band's half-width is `k * spread`, widened to the signal's minimum deviation (absolute and
 * relative to the expected value) so a tiny wiggle on a flat series never scores above 1.
 */
export function bandHalfWidth(expected: number, spread: number, k: number, opts: ScoreOptions): number {
  const floor = Math.max(opts.minDeviation, opts.minRelativeDeviation * Math.abs(expected));
  const width = Math.max(k * spread, floor);
  // A perfectly flat history with no floor configured: any change at all is news.
  return width > 0 ? width : 1e-9 * Math.max(1, Math.abs(expected));
}

/** Score of `value` against a band, honouring the signal's direction. */
export function deviationScore(value: number, expected: number, halfWidth: number, opts: ScoreOptions): number {
  const dev = value - expected;
  if (opts.direction === 'above') return dev > 0 ? dev / halfWidth : 0;
  if (opts.direction === 'below') return dev < 0 ? -dev / halfWidth : 0;
  return Math.abs(dev) / halfWidth;
}

/**
 * Applies direction and minimum deviation to a score that has no band of its own (the isolation
 * forest): zero on the side that does not count, and never above |deviation| / floor while the
 * value stays within the signal's minimum deviation of its expected level.
 */
export function gateScore(score: number, value: number, expected: number, opts: ScoreOptions): number {
  const dev = value - expected;
  if (opts.direction === 'above' && dev <= 0) return 0;
  if (opts.direction === 'below' && dev >= 0) return 0;
  const floor = Math.max(opts.minDeviation, opts.minRelativeDeviation * Math.abs(expected));
  if (floor > 0 && Math.abs(dev) < floor) return Math.min(score, Math.abs(dev) / floor);
  return score;
}
