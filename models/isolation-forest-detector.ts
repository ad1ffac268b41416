import { TAIL_FACTOR } from './band-detector';
import { gateScore } from './deviation-score';
import { IsolationForest } from './isolation-forest';
import { encodeState } from './typed-array-codec';
import { sortedMedian, sortedQuantile } from './quantile';
import { firstColumn } from './columns';
import { Detector, DetectorState, FeatureMatrix, NotEnoughDataError, ScoreOptions, Scores, StateFormatError } from './types';

export interface IsolationForestDetectorOptions {
  trees: number;
  sampleSize: number;
  seed: number;
  /**
   * Share of training points treated as outliers. The raw score is mapped so that the median
   * training score is 0 and 1 lies TAIL_FACTOR (1.5) times as far out as the (1 - contamination)
   * quantile: on data like the training data, well under this share of points scores above 1.
   */
  contamination: number;
  minSamples: number;
  /** At most this many training rows (an even stride over the window) are scored to calibrate. */
  calibrationSamples: number;
}

/**
 * Isolation forest on the common score scale. The raw path-length score s(x) is calibrated
 * against the forest's own training scores (DESIGN.md), then gated by the signal's direction and
 * minimum deviation relative to the training median value, since the forest has no band.
 */
export class IsolationForestDetector implements Detector {
  readonly name = 'isolation_forest';
  static readonly VERSION = 1;
  private forest: IsolationForest;
  private center = 0;
  private edge = 1;
  private valueMedian = 0;
  private n = 0;
  private fittedAt = 0;

  constructor(
    readonly opts: IsolationForestDetectorOptions,
    readonly scoring: ScoreOptions,
  ) {
    this.forest = new IsolationForest(opts);
  }

  get fitted(): boolean {
    return this.n > 0;
  }

  get byteSize(): number {
    return this.forest.byteSize;
  }

  fit(train: FeatureMatrix, fittedAtSeconds = 0): void {
    if (train.rows < this.opts.minSamples) throw new NotEnoughDataError(this.name, train.rows, this.opts.minSamples);
    const forest = new IsolationForest(this.opts);
    forest.fit(train);
    const raw = forest.score(strideSample(train, this.opts.calibrationSamples)).sort();
    this.center = sortedMedian(raw);
    // As for the bands: the edge lies TAIL_FACTOR times as far from the median as the
    // (1 - contamination) quantile, so a few odd points in the window do not set it alone.
    this.edge = this.center + TAIL_FACTOR * (sortedQuantile(raw, 1 - this.opts.contamination) - this.center);
    if (!(this.edge > this.center)) this.edge = this.center + 1e-6;
    this.valueMedian = sortedMedian(Float64Array.from(firstColumn(train)).sort());
    this.forest = forest;
    this.n = train.rows;
    this.fittedAt = fittedAtSeconds;
  }

  score(window: FeatureMatrix): Scores {
    const score = this.forest.score(window);
    const span = this.edge - this.center;
    for (let r = 0; r < window.rows; r++) {
      const calibrated = Math.max(0, (score[r] - this.center) / span);
      score[r] = gateScore(calibrated, window.data[r * window.cols], this.valueMedian, this.scoring);
    }
    return { score };
  }

  toState(): DetectorState {
    return {
      name: this.name,
      version: IsolationForestDetector.VERSION,
      fittedAtSeconds: this.fittedAt,
      nSamples: this.n,
      state: { center: this.center, edge: this.edge, valueMedian: this.valueMedian, forest: this.forest.toState() },
    };
  }

  toJSON(): DetectorState {
    return encodeState(this.toState()) as DetectorState;
  }

  static load(s: DetectorState, opts: IsolationForestDetectorOptions, scoring: ScoreOptions): IsolationForestDetector {
    if (s.name !== 'isolation_forest' || s.version !== IsolationForestDetector.VERSION) {
      throw new StateFormatError(`not an isolation_forest v${IsolationForestDetector.VERSION} state: ${s.name} v${s.version}`);
    }
    const d = new IsolationForestDetector(opts, scoring);
    d.forest = IsolationForest.load(s.state.forest);
    d.center = Number(s.state.center);
    d.edge = Number(s.state.edge);
    d.valueMedian = Number(s.state.valueMedian);
    d.n = s.nSamples;
    d.fittedAt = s.fittedAtSeconds;
    return d;
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
