import { TAIL_FACTOR } from './band-detector';
import { IsolationForest, IsolationForestOptions } from './isolation-forest';
import { sortedMedian, sortedQuantile } from './quantile';
import { FeatureMatrix } from './types';

export interface CalibratedForestOptions extends IsolationForestOptions {
  /** Share of training points treated as outliers when placing score 1. */
  contamination: number;
  /** At most this many training rows (an even stride over the window) are scored to calibrate. */
  calibrationSamples: number;
}

export interface CalibratedForestState {
  forest: unknown;
  center: number;
  edge: number;
}

/**
 * An isolation forest whose path-length score is mapped to the common scale from its own training
 * scores: the median training score is 0, and 1 lies TAIL_FACTOR times as far out as the
 * (1 - contamination) quantile, so a few odd points in the window do not set the edge alone.
 */
export class CalibratedForest {
  private forest: IsolationForest;
  private center = 0;
  private edge = 1;

  constructor(readonly opts: CalibratedForestOptions) {
    this.forest = new IsolationForest(opts);
  }

  get fitted(): boolean {
    return this.forest.fitted;
  }

  fit(train: FeatureMatrix): void {
    const forest = new IsolationForest(this.opts);
    forest.fit(train);
    const raw = forest.score(strideSample(train, this.opts.calibrationSamples)).sort();
    this.center = sortedMedian(raw);
    this.edge = this.center + TAIL_FACTOR * (sortedQuantile(raw, 1 - this.opts.contamination) - this.center);
    if (!(this.edge > this.center)) this.edge = this.center + 1e-6;
    this.forest = forest;
  }

  /** Calibrated scores, ≥ 0. */
  /** Each feature's share in isolating row `row` of x (see IsolationForest.contributions). */
  contributions(x: FeatureMatrix, row: number, out: Float64Array): void {
    this.forest.contributions(x.data, row * x.cols, out);
  }

  score(x: FeatureMatrix): Float64Array {
    const s = this.forest.score(x);
    const span = this.edge - this.center;
    for (let r = 0; r < x.rows; r++) s[r] = Math.max(0, (s[r] - this.center) / span);
    return s;
  }

  toState(): CalibratedForestState {
    return { forest: this.forest.toState(), center: this.center, edge: this.edge };
  }

  static load(s: CalibratedForestState, opts: CalibratedForestOptions): CalibratedForest {
    const f = new CalibratedForest(opts);
    f.forest = IsolationForest.load(s.forest);
    f.center = Number(s.center);
    f.edge = Number(s.edge);
    return f;
  }
}

/** Every k-th row, so that at most `limit` rows remain; keeps the time spread of the window. */
export function strideSample(m: FeatureMatrix, limit: number): FeatureMatrix {
  if (m.rows <= limit) return m;
  const stride = m.rows / limit;
  const data = new Float64Array(limit * m.cols);
  for (let i = 0; i < limit; i++) {
    const r = Math.floor(i * stride);
    data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  }
  return { rows: limit, cols: m.cols, data };
}
