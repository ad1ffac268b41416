import { BandDetector, BandOptions } from './band-detector';
import { DetectorState, ScoreOptions } from './types';

export type ZScoreOptions = BandOptions;

/**
 * Classic z-score: centre = training mean, spread = standard deviation (Welford's one pass).
 * Cost: O(n log n) fit (the calibration sorts), O(1) per scored point.
 */
export class ZScoreDetector extends BandDetector {
  readonly name = 'zscore';
  static readonly VERSION = 2;

  protected version(): number {
    return ZScoreDetector.VERSION;
  }

  protected estimate(values: Float64Array): { center: number; spread: number } {
    // Welford (1962): numerically stable running mean and variance.
    let mean = 0;
    let m2 = 0;
    for (let i = 0; i < values.length; i++) {
      const d = values[i] - mean;
      mean += d / (i + 1);
      m2 += d * (values[i] - mean);
    }
    return { center: mean, spread: Math.sqrt(m2 / values.length) };
  }

  static load(s: DetectorState, opts: ZScoreOptions, scoring: ScoreOptions): ZScoreDetector {
    return new ZScoreDetector(opts, scoring).loadState(s);
  }
}
