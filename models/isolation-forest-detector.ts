import { CalibratedForest, CalibratedForestOptions, CalibratedForestState } from './calibrated-forest';
import { firstColumn } from './columns';
import { gateScore } from './deviation-score';
import { sortedMedian } from './quantile';
import { encodeState } from './typed-array-codec';
import { Detector, DetectorState, FeatureMatrix, NotEnoughDataError, ScoreOptions, Scores, StateFormatError } from './types';

export interface IsolationForestDetectorOptions extends CalibratedForestOptions {
  minSamples: number;
}

/**
 * Isolation forest on the common score scale (see CalibratedForest), then gated by the signal's
 * direction and minimum deviation relative to the training median value, since the forest has no
 * band of its own.
 */
export class IsolationForestDetector implements Detector {
  readonly name = 'isolation_forest';
  static readonly VERSION = 2;
  private forest: CalibratedForest;
  private valueMedian = 0;
  private n = 0;
  private fittedAt = 0;

  constructor(
    readonly opts: IsolationForestDetectorOptions,
    readonly scoring: ScoreOptions,
  ) {
    this.forest = new CalibratedForest(opts);
  }

  get fitted(): boolean {
    return this.n > 0;
  }

  fit(train: FeatureMatrix, fittedAtSeconds = 0): void {
    if (train.rows < this.opts.minSamples) throw new NotEnoughDataError(this.name, train.rows, this.opts.minSamples);
    const forest = new CalibratedForest(this.opts);
    forest.fit(train);
    this.valueMedian = sortedMedian(Float64Array.from(firstColumn(train)).sort());
    this.forest = forest;
    this.n = train.rows;
    this.fittedAt = fittedAtSeconds;
  }

  score(window: FeatureMatrix): Scores {
    const score = this.forest.score(window);
    for (let r = 0; r < window.rows; r++) score[r] = gateScore(score[r], window.data[r * window.cols], this.valueMedian, this.scoring);
    return { score };
  }

  toState(): DetectorState {
    return {
      name: this.name,
      version: IsolationForestDetector.VERSION,
      fittedAtSeconds: this.fittedAt,
      nSamples: this.n,
      state: { ...this.forest.toState(), valueMedian: this.valueMedian },
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
    d.forest = CalibratedForest.load(s.state as unknown as CalibratedForestState, opts);
    d.valueMedian = Number(s.state.valueMedian);
    d.n = s.nSamples;
    d.fittedAt = s.fittedAtSeconds;
    return d;
  }
}
