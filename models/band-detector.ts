import { bandHalfWidth, deviationScore } from './deviation-score';
import { firstColumn } from './columns';
import { selectQuantile } from './quantile';
import { tailThreshold } from './tail-threshold';
import { Detector, DetectorState, FeatureMatrix, NotEnoughDataError, ScoreOptions, Scores, StateFormatError } from './types';

export interface BandOptions {
  /** Least band edge, in spreads (standard deviations or robust equivalents). */
  threshold: number;
  minSamples: number;
  /**
   * Share of the training window treated as outliers. The band edge is also at least
   * TAIL_FACTOR times the (1 - contamination) quantile of the training deviations, in spreads:
   * heavy-tailed data gets a wider band instead of constant alarms, while a short incident
   * inside the window (less than `contamination` of it) does not widen the band to its size.
   */
  contamination: number;
  /**
   * Tail calibration (tail-threshold.ts): when above 0, the band edge is at least the deviation
   * the training window exceeds with this probability per sample, from a fitted tail, instead of
   * the contamination quantile's.
   */
  risk?: number;
  /**
   * Online updates: after scoring, each sample within the band moves the centre and spread by an
   * exponentially weighted step with weight 2/(adaptSamples+1), its deviation clipped at HUBER_K
   * spreads, so the band follows a drift, and a shift near its edge within about adaptSamples
   * samples (the band widens by up to 5 % a sample at the default 120). Samples outside the band do not move it:
   * an ongoing anomaly is not learned as normal (a lasting one is taken in by a refit, see
   * scheduler.accept_after). 0 keeps the fit fixed until the next refit.
   */
  adaptSamples: number;
}

/** Huber's clipping constant for online updates, in spreads. */
export const HUBER_K = 2;

/** For normal data the 0.99 quantile of |z| is 2.58; times 1.5 is 3.9, below the default thresholds. */
export const TAIL_FACTOR = 1.5;

/**
 * A statistical detector: an expected value (centre) and a band of centre ± edge·spread.
 * Subclasses say how centre and spread are estimated from the training window.
 */
export abstract class BandDetector implements Detector {
  abstract readonly name: string;
  protected center = 0;
  protected spread = 0;
  /** Band edge in spreads, from the threshold and the training deviations. */
  protected edge = 0;
  private n = 0;
  private fittedAt = 0;

  constructor(
    readonly opts: BandOptions,
    readonly scoring: ScoreOptions,
  ) {}

  protected abstract version(): number;
  /** Centre and spread of the training values. */
  protected abstract estimate(values: Float64Array): { center: number; spread: number };

  get fitted(): boolean {
    return this.n > 0;
  }

  fit(train: FeatureMatrix, fittedAtSeconds = 0): void {
    if (train.rows < this.opts.minSamples) throw new NotEnoughDataError(this.name, train.rows, this.opts.minSamples);
    const values = firstColumn(train);
    const { center, spread } = this.estimate(values);
    const dev = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) dev[i] = Math.abs(values[i] - center);
    // One quantile needs no sort (selection is a few times faster per fit); the tail fit reads the whole tail.
    const tailDeviation = this.opts.risk ? tailThreshold(dev.sort(), this.opts.risk) : TAIL_FACTOR * selectQuantile(dev, 1 - this.opts.contamination);
    const tail = spread > 0 ? tailDeviation / spread : 0;
    this.center = center;
    this.spread = spread;
    this.edge = Math.max(this.opts.threshold, tail);
    this.n = train.rows;
    this.fittedAt = fittedAtSeconds;
  }

  score(window: FeatureMatrix, learn = true): Scores {
    const rows = window.rows;
    const score = new Float64Array(rows);
    const expected = new Float64Array(rows);
    const lower = new Float64Array(rows);
    const upper = new Float64Array(rows);
    const alpha = this.opts.adaptSamples > 0 ? 2 / (this.opts.adaptSamples + 1) : 0;
    for (let r = 0; r < rows; r++) {
      const x = window.data[r * window.cols];
      const half = bandHalfWidth(this.center, this.spread, this.edge, this.scoring);
      expected[r] = this.center;
      lower[r] = this.center - half;
      upper[r] = this.center + half;
      score[r] = deviationScore(x, this.center, half, this.scoring);
      // A sample outside the band does not move it: an incident is not learned while it lasts (a
      // lasting one is taken in on purpose by a refit, after scheduler.accept_after).
      if (learn && alpha > 0 && score[r] <= 1) this.adapt(x, alpha);
    }
    return { score, expected, lower, upper };
  }

  /**
   * Exponentially weighted centre and spread (West, 1979), each deviation clipped at
   * HUBER_K spreads (Huber, 1964): one sample widens the band by at most a factor
   * (1 - α)(1 + α·K²) (1.05 for K = 2 and α = 2/121).
   */
  private adapt(x: number, alpha: number): void {
    const limit = HUBER_K * this.spread;
    const d = limit > 0 ? Math.max(-limit, Math.min(limit, x - this.center)) : x - this.center;
    this.center += alpha * d;
    const variance = this.spread * this.spread;
    this.spread = Math.sqrt((1 - alpha) * (variance + alpha * d * d));
  }

  toState(): DetectorState {
    return this.toJSON();
  }

  toJSON(): DetectorState {
    return {
      name: this.name,
      version: this.version(),
      fittedAtSeconds: this.fittedAt,
      nSamples: this.n,
      state: { center: this.center, spread: this.spread, edge: this.edge },
    };
  }

  protected loadState(s: DetectorState): this {
    if (s.name !== this.name || s.version !== this.version())
      throw new StateFormatError(`not a ${this.name} v${this.version()} state: ${s.name} v${s.version}`);
    this.center = Number(s.state.center);
    this.spread = Number(s.state.spread);
    this.edge = Number(s.state.edge);
    this.n = s.nSamples;
    this.fittedAt = s.fittedAtSeconds;
    return this;
  }
}
