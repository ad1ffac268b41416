import { BandDetector, BandOptions } from './band-detector';
import { selectMedian, sortedMedian } from './quantile';
import { DetectorState, ScoreOptions } from './types';

export type MadOptions = BandOptions;

/** 1.4826 = 1 / Φ⁻¹(3/4): makes the MAD a consistent estimator of σ for normal data. */
const MAD_TO_SIGMA = 1.4826;
/** When the MAD is 0 (over half the values equal), Iglewicz & Hoaglin use the mean absolute deviation · 1.2533. */
const MEANAD_TO_SIGMA = 1.253314;

/**
 * Robust z-score (Iglewicz & Hoaglin, 1993): centre = median, spread = 1.4826·MAD.
 * A few outliers in the training window barely move either, unlike mean and σ.
 * Cost: O(n log n) fit (sort), O(1) per scored point.
 */
export class MadDetector extends BandDetector {
  readonly name = 'mad';
  static readonly VERSION = 2;

  protected version(): number {
    return MadDetector.VERSION;
  }

  protected estimate(values: Float64Array): { center: number; spread: number } {
    // Sorted rather than selected: which of -0 and 0 is the median must not depend on the order.
    const sorted = Float64Array.from(values).sort();
    const median = sortedMedian(sorted);
    const absDev = new Float64Array(sorted.length);
    let sumAbs = 0;
    for (let i = 0; i < sorted.length; i++) {
      absDev[i] = Math.abs(sorted[i] - median);
      sumAbs += absDev[i];
    }
    // Absolute deviations are never -0, so a selection gives the sorted median exactly.
    const mad = selectMedian(absDev);
    return { center: median, spread: mad > 0 ? MAD_TO_SIGMA * mad : (MEANAD_TO_SIGMA * sumAbs) / sorted.length };
  }

  static load(s: DetectorState, opts: MadOptions, scoring: ScoreOptions): MadDetector {
    return new MadDetector(opts, scoring).loadState(s);
  }
}
