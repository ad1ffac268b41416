import { bandScores } from './zscore-detector';
import { firstColumn } from './columns';
import { Detector, DetectorState, FeatureMatrix, NotEnoughDataError, ScoreOptions, Scores, StateFormatError } from './types';

export interface MadOptions {
  /** Band edge in robust standard deviations (1.4826 · MAD). */
  threshold: number;
  minSamples: number;
}

/** 1.4826 = 1 / Φ⁻¹(3/4): makes the MAD a consistent estimator of σ for normal data. */
const MAD_TO_SIGMA = 1.4826;
/** When the MAD is 0 (over half the values equal), Iglewicz & Hoaglin use the mean absolute deviation · 1.2533. */
const MEANAD_TO_SIGMA = 1.253314;

/**
 * Robust z-score (Iglewicz & Hoaglin, 1993): expected value = median, spread = 1.4826·MAD.
 * A few outliers in the training window barely move either, unlike mean and σ.
 * Cost: O(n log n) fit (sort), O(1) per scored point.
 */
export class MadDetector implements Detector {
  readonly name = 'mad';
  static readonly VERSION = 1;
  private median = 0;
  private spread = 0;
  private n = 0;
  private fittedAt = 0;

  constructor(
    readonly opts: MadOptions,
    readonly scoring: ScoreOptions,
  ) {}

  get fitted(): boolean {
    return this.n > 0;
  }

  fit(train: FeatureMatrix, fittedAtSeconds = 0): void {
    if (train.rows < this.opts.minSamples) throw new NotEnoughDataError(this.name, train.rows, this.opts.minSamples);
    const sorted = Float64Array.from(firstColumn(train)).sort();
    const median = sortedMedian(sorted);
    const absDev = new Float64Array(sorted.length);
    let sumAbs = 0;
    for (let i = 0; i < sorted.length; i++) {
      absDev[i] = Math.abs(sorted[i] - median);
      sumAbs += absDev[i];
    }
    absDev.sort();
    const mad = sortedMedian(absDev);
    this.median = median;
    this.spread = mad > 0 ? MAD_TO_SIGMA * mad : (MEANAD_TO_SIGMA * sumAbs) / sorted.length;
    this.n = train.rows;
    this.fittedAt = fittedAtSeconds;
  }

  score(window: FeatureMatrix): Scores {
    return bandScores(window, this.median, this.spread, this.opts.threshold, this.scoring);
  }

  toState(): DetectorState {
    return this.toJSON();
  }

  toJSON(): DetectorState {
    return { name: this.name, version: MadDetector.VERSION, fittedAtSeconds: this.fittedAt, nSamples: this.n, state: { median: this.median, spread: this.spread } };
  }

  static load(s: DetectorState, opts: MadOptions, scoring: ScoreOptions): MadDetector {
    if (s.name !== 'mad' || s.version !== MadDetector.VERSION) throw new StateFormatError(`not a mad v${MadDetector.VERSION} state: ${s.name} v${s.version}`);
    const d = new MadDetector(opts, scoring);
    d.median = Number(s.state.median);
    d.spread = Number(s.state.spread);
    d.n = s.nSamples;
    d.fittedAt = s.fittedAtSeconds;
    return d;
  }
}

export function sortedMedian(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Quantile of sorted values with linear interpolation between order statistics (type 7, as numpy's default). */
export function sortedQuantile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
