import { firstColumn } from './columns';
import { gateScore } from './deviation-score';
import { getOffset, OffsetStore, putOffset, rebase } from './offset-float32';
import { isSlidingMaxState, SlidingMax, SlidingMaxState } from './sliding-max';
import { decodeState, encodeState, isFloat32Array, isFloat64Array } from './typed-array-codec';
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

/** The newest window of the search under way (one search at a time: scoring is synchronous). */
let query = new Float64Array(64);

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
  /** 2: the values saved as the Float32 offsets and base they are kept as (1: as Float64, still loaded). */
  static readonly VERSION = 2;
  /**
   * Values, oldest first, with some slack so the buffer compacts only every `slack` samples. As
   * Float32 offsets from a base moved to the newest value at each compaction (offset-float32.ts):
   * half the memory, and the distances, which are differences, are those of the values to within
   * 2^-23 of the history's range.
   */
  private values: OffsetStore;
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
    this.values = { values: new Float32Array(opts.history + opts.window + Math.max(16, opts.history >> 3)), base: NaN };
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
    if (this.nValues === this.values.values.length) {
      const keep = this.opts.history + this.opts.window;
      this.values.values.copyWithin(0, this.nValues - keep, this.nValues);
      this.nValues = keep;
      rebase(this.values, getOffset(this.values, keep - 1), 0, keep);
    }
    putOffset(this.values, this.nValues++, x);
  }

  /**
   * RMS distance from the newest window (ending at the last value) to the nearest earlier window
   * that does not overlap it, within the last `history` values, and that window's last value
   * (what came last time this shape was seen). Distance -1 while no earlier window exists.
   */
  private nearest(newest: number): { distance: number; expected: number } {
    const w = this.opts.window;
    // Offsets: their differences are the values' (the base cancels).
    const v = this.values.values;
    const end = this.nValues - 1;
    const first = Math.max(w - 1, end - this.opts.history);
    // The newest window, read once as Float64: the search then reads each Float32 once, and runs
    // as fast as it did over Float64 values (20 % slower without).
    if (query.length < w) query = new Float64Array(w);
    const q = query;
    for (let k = 0; k < w; k++) q[k] = v[end - k];
    let best = Infinity;
    let bestEnd = -1;
    for (let j = end - w; j >= first; j--) {
      let acc = 0;
      for (let k = 0; k < w && acc < best; k++) {
        const e = q[k] - v[j - k];
        acc += e * e;
      }
      if (acc < best) {
        best = acc;
        bestEnd = j;
      }
    }
    if (bestEnd < 0) return { distance: -1, expected: newest };
    return { distance: Math.sqrt(best / w), expected: getOffset(this.values, bestEnd) };
  }

  toState(): DetectorState {
    return {
      name: this.name,
      version: PatternDetector.VERSION,
      fittedAtSeconds: this.fittedAt,
      nSamples: this.warm ? Math.max(1, this.nValues) : 0,
      state: { ...this.savedValues(), distances: this.distances.toState() },
    };
  }

  /**
   * The values as they are kept, slack included, so a loaded detector compacts (and moves its
   * base) when this one would, and scores exactly as it would have.
   */
  private savedValues(): { offsets: Float32Array; base: number } {
    return { offsets: this.values.values.slice(0, this.nValues), base: this.values.base };
  }

  toJSON(): DetectorState {
    return encodeState(this.toState()) as DetectorState;
  }

  static load(s: DetectorState, opts: PatternOptions, scoring: ScoreOptions): PatternDetector {
    if (s.name !== 'pattern' || (s.version !== 1 && s.version !== PatternDetector.VERSION))
      throw new StateFormatError(`not a pattern v${PatternDetector.VERSION} state: ${s.name} v${s.version}`);
    const state = decodeState(s.state) as { values?: unknown; offsets?: unknown; base?: unknown; distances?: Partial<SlidingMaxState> };
    const { distances: d } = state;
    const v1 = s.version === 1 && isFloat64Array(state.values);
    // A base that is NaN (nothing finite kept yet) comes back from JSON as null.
    const v2 = s.version === 2 && isFloat32Array(state.offsets) && (typeof state.base === 'number' || state.base === null);
    if (!(v1 || v2) || !isSlidingMaxState(d)) {
      throw new StateFormatError('pattern state: values or distances missing or malformed');
    }
    const p = new PatternDetector(opts, scoring);
    if (v2) {
      const offsets = state.offsets as Float32Array;
      // Another history or window than the saved one's: the newest that fit.
      const from = offsets.length > p.values.values.length ? offsets.length - opts.history - opts.window : 0;
      p.values.values.set(offsets.subarray(from));
      p.values.base = typeof state.base === 'number' ? state.base : NaN;
      p.nValues = offsets.length - from;
    } else {
      const values = state.values as Float64Array;
      for (let i = Math.max(0, values.length - opts.history - opts.window); i < values.length; i++) p.push(values[i]);
    }
    p.distances = SlidingMax.load(d, calibrationSpan(opts));
    p.fittedAt = s.fittedAtSeconds;
    p.warm = s.nSamples > 0;
    return p;
  }
}

function calibrationSpan(opts: PatternOptions): number {
  return Math.max(opts.history, opts.calibration ?? 0);
}
