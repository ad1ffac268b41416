import { mean, standardDeviation } from 'simple-statistics';
import { bandHalfWidth, deviationScore } from './deviation-score';
import { Detector, DetectorState, FeatureMatrix, NotEnoughDataError, ScoreOptions, Scores, StateFormatError } from './types';
import { firstColumn } from './columns';

export interface ZScoreOptions {
  /** Band edge in standard deviations: a score of 1 is `threshold` sigmas from the mean. */
  threshold: number;
  minSamples: number;
}

/**
 * Classic z-score: expected value = training mean, band = mean ± threshold·σ.
 * Reads the first feature column (the raw value). Cost: O(n) fit, O(1) per scored point.
 */
export class ZScoreDetector implements Detector {
  readonly name = 'zscore';
  static readonly VERSION = 1;
  private mu = 0;
  private sigma = 0;
  private n = 0;
  private fittedAt = 0;

  constructor(
    readonly opts: ZScoreOptions,
    readonly scoring: ScoreOptions,
  ) {}

  get fitted(): boolean {
    return this.n > 0;
  }

  fit(train: FeatureMatrix, fittedAtSeconds = 0): void {
    if (train.rows < this.opts.minSamples) throw new NotEnoughDataError(this.name, train.rows, this.opts.minSamples);
    const values = firstColumn(train);
    this.mu = mean(values as unknown as number[]);
    this.sigma = standardDeviation(values as unknown as number[]);
    this.n = train.rows;
    this.fittedAt = fittedAtSeconds;
  }

  score(window: FeatureMatrix): Scores {
    return bandScores(window, this.mu, this.sigma, this.opts.threshold, this.scoring);
  }

  toState(): DetectorState {
    return this.toJSON();
  }

  toJSON(): DetectorState {
    return { name: this.name, version: ZScoreDetector.VERSION, fittedAtSeconds: this.fittedAt, nSamples: this.n, state: { mean: this.mu, std: this.sigma } };
  }

  static load(s: DetectorState, opts: ZScoreOptions, scoring: ScoreOptions): ZScoreDetector {
    if (s.name !== 'zscore' || s.version !== ZScoreDetector.VERSION) throw new StateFormatError(`not a zscore v${ZScoreDetector.VERSION} state: ${s.name} v${s.version}`);
    const d = new ZScoreDetector(opts, scoring);
    d.mu = Number(s.state.mean);
    d.sigma = Number(s.state.std);
    d.n = s.nSamples;
    d.fittedAt = s.fittedAtSeconds;
    return d;
  }
}

/** Scores every row's value against expected ± threshold·spread. Shared by the statistical detectors. */
export function bandScores(window: FeatureMatrix, expected: number, spread: number, threshold: number, scoring: ScoreOptions): Scores {
  const rows = window.rows;
  const score = new Float64Array(rows);
  const exp = new Float64Array(rows).fill(expected);
  const lower = new Float64Array(rows);
  const upper = new Float64Array(rows);
  const half = bandHalfWidth(expected, spread, threshold, scoring);
  lower.fill(expected - half);
  upper.fill(expected + half);
  for (let r = 0; r < rows; r++) score[r] = deviationScore(window.data[r * window.cols], expected, half, scoring);
  return { score, expected: exp, lower, upper };
}
