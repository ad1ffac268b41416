import { firstColumn } from './columns';
import { gateScore } from './deviation-score';
import { isSlidingMaxState, SlidingMax, SlidingMaxState } from './sliding-max';
import { decodeState, encodeState, isFloat64Array } from './typed-array-codec';
import { Detector, DetectorState, FeatureMatrix, NotEnoughDataError, ScoreOptions, Scores, StateFormatError } from './types';

export interface PatternOptions {
  /** Samples per pattern: the newest `window` values are compared as one shape. */
  window: number;
  /** Past samples searched for the nearest pattern. */
  history: number;
  /**
   * Score 1 lies `factor` times the largest distance among the last `calibration` scored samples:
   * a pattern is anomalous when it is further from everything seen than anything recent was.
   */
  factor: number;
  minSamples: number;
  /** Recent distances the calibration takes its largest from (default and least: `history`). */
  calibration?: number;
}

/** Least number of recent distances before the detector scores at all. */
const MIN_CALIBRATION = 30;
/** At a cold start, at most this many of the newest training samples get a calibration distance (each costs a search). */
const SEED_CALIBRATION = 64;

/**
 * Nearest-neighbour pattern detector (a causal discord search, after Keogh et al. 2005 and the
 * conformal KNN of Burnaev & Ishimtsev 2016): the distance from the newest `window` samples to
 * the nearest earlier window of the last `history` samples, as an RMS difference. Level shifts,
 * missing daily jumps, flat spells and changed spike rhythms all give shapes never seen before,
 * even when every single value is within its usual range. The score is that distance over
 * `factor` times the largest recent distance, so it calibrates itself to each series' own noise
 * and, after an alarm, the same kind of change must grow by `factor` to alarm again.
 *
 * It learns online: every scored sample joins the history. A refit keeps it (see `online`);
 * `fit` only seeds it at a cold start. Cost per scored sample: O(history × window) at worst,
 * far less with early abandoning.
 */
export class PatternDetector implements Detector {
  readonly name = 'pattern';
  readonly online = true;
  static readonly VERSION = 1;
  /** Values, oldest first, with some slack so the buffer compacts only every `slack` samples. */
  private values: Float64Array;
  private nValues = 0;
  /** The largest of the recent distances: the calibration. */
  private distances: SlidingMax;
  private fittedAt = 0;
  private warm = false;

  constructor(
    readonly opts: PatternOptions,
    readonly scoring: ScoreOptions,
  ) {
    if (opts.history < 2 * opts.window) throw new RangeError(`pattern: history (${opts.history}) must be at least twice the window (${opts.window})`);
    this.values = new Float64Array(opts.history + opts.window + Math.max(16, opts.history >> 3));
    this.distances = new SlidingMax(calibrationSpan(opts));
  }

  get fitted(): boolean {
    return this.warm;
  }

  /** Seeds history and calibration from the training values (a cold start). */
  fit(train: FeatureMatrix, fittedAtSeconds = 0): void {
    if (train.rows < this.opts.minSamples) throw new NotEnoughDataError(this.name, train.rows, this.opts.minSamples);
    const values = firstColumn(train);
    const keep = Math.min(values.length, this.opts.history + SEED_CALIBRATION);
    const calibrateFrom = values.length - Math.min(SEED_CALIBRATION, keep - 2 * this.opts.window);
    this.nValues = 0;
    this.distances.clear();
    for (let i = values.length - keep; i < values.length; i++) {
      this.push(values[i]);
      if (i >= calibrateFrom) {
        const d = this.nearest(values[i]).distance;
        if (d >= 0) this.distances.push(d);
      }
    }
    this.fittedAt = fittedAtSeconds;
    this.warm = true;
  }

  score(window: FeatureMatrix, learn = true): Scores {
    const rows = window.rows;
    const score = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const x = window.data[r * window.cols];
      this.push(x);
      const { distance, expected } = this.nearest(x);
      if (distance < 0) continue;
      if (this.distances.size >= MIN_CALIBRATION) {
        const edge = this.opts.factor * this.distances.max;
        const floor = Math.max(this.scoring.minDeviation, this.scoring.minRelativeDeviation * Math.abs(expected));
        const width = Math.max(edge, floor) || 1e-9 * Math.max(1, Math.abs(expected));
        score[r] = gateScore(distance / width, x, expected, this.scoring);
      }
      // Only changes on the side that counts calibrate: a drop in latency must not blunt the
      // detector for the next rise.
      if (learn && this.counts(x - expected)) this.distances.push(distance);
    }
    return { score };
  }

  private counts(deviation: number): boolean {
    const dir = this.scoring.direction;
    return dir === 'both' || (dir === 'above' ? deviation >= 0 : deviation <= 0);
  }

  /** Appends a value, dropping all but the values the search needs when the buffer is full. */
  private push(x: number): void {
    if (this.nValues === this.values.length) {
      const keep = this.opts.history + this.opts.window;
      this.values.copyWithin(0, this.nValues - keep, this.nValues);
      this.nValues = keep;
    }
    this.values[this.nValues++] = x;
  }

  /**
   * RMS distance from the newest window (ending at the last value) to the nearest earlier window
   * that does not overlap it, within the last `history` values, and that window's last value
   * (what came last time this shape was seen). Distance -1 while no earlier window exists.
   */
  private nearest(newest: number): { distance: number; expected: number } {
    const w = this.opts.window;
    const v = this.values;
    const end = this.nValues - 1;
    const first = Math.max(w - 1, end - this.opts.history);
    let best = Infinity;
    let bestEnd = -1;
    for (let j = end - w; j >= first; j--) {
      let acc = 0;
      for (let k = 0; k < w && acc < best; k++) {
        const e = v[end - k] - v[j - k];
        acc += e * e;
      }
      if (acc < best) {
        best = acc;
        bestEnd = j;
      }
    }
    if (bestEnd < 0) return { distance: -1, expected: newest };
    return { distance: Math.sqrt(best / w), expected: v[bestEnd] };
  }

  toState(): DetectorState {
    return {
      name: this.name,
      version: PatternDetector.VERSION,
      fittedAtSeconds: this.fittedAt,
      nSamples: this.warm ? Math.max(1, this.nValues) : 0,
      state: { values: this.values.slice(Math.max(0, this.nValues - this.opts.history - this.opts.window), this.nValues), distances: this.distances.toState() },
    };
  }

  toJSON(): DetectorState {
    return encodeState(this.toState()) as DetectorState;
  }

  static load(s: DetectorState, opts: PatternOptions, scoring: ScoreOptions): PatternDetector {
    if (s.name !== 'pattern' || s.version !== PatternDetector.VERSION)
      throw new StateFormatError(`not a pattern v${PatternDetector.VERSION} state: ${s.name} v${s.version}`);
    const state = decodeState(s.state) as { values?: unknown; distances?: Partial<SlidingMaxState> };
    const { values, distances: d } = state;
    if (!isFloat64Array(values) || !isSlidingMaxState(d)) {
      throw new StateFormatError('pattern state: values or distances missing or malformed');
    }
    const p = new PatternDetector(opts, scoring);
    for (let i = Math.max(0, values.length - opts.history - opts.window); i < values.length; i++) p.push(values[i]);
    p.distances = SlidingMax.load(d, calibrationSpan(opts));
    p.fittedAt = s.fittedAtSeconds;
    p.warm = s.nSamples > 0;
    return p;
  }
}

function calibrationSpan(opts: PatternOptions): number {
  return Math.max(opts.history, opts.calibration ?? 0);
}
