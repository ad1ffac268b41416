/**
 * Plain data in, plain data out (DESIGN.md "Shapes to follow").
 * A FeatureMatrix is row-major: row t holds the features of sample t.
 */
export interface FeatureMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Per-row output of a detector on the common scale: 0 at the expected value, 1 at the band edge. */
export interface Scores {
  readonly score: Float64Array;
  /** Statistical detectors only: the expected value and band per row. */
  readonly expected?: Float64Array;
  readonly lower?: Float64Array;
  readonly upper?: Float64Array;
}

export interface DetectorState {
  name: string;
  version: number;
  fittedAtSeconds: number;
  nSamples: number;
  state: Record<string, unknown>;
}

export interface Detector {
  readonly name: string;
  readonly fitted: boolean;
  /** Learns from every scored sample; a refit keeps it instead of replacing it (the pattern detector). */
  readonly online?: boolean;
  /** Throws NotEnoughDataError below the detector's minimum sample count. */
  fit(train: FeatureMatrix, fittedAtSeconds?: number): void;
  /**
   * Causal: the score of row t depends on the fitted state and row t only. With `learn` false an
   * online detector scores without calibrating on the rows (planned work is not the new normal).
   */
  score(window: FeatureMatrix, learn?: boolean): Scores;
  /** State with typed arrays as they are (structured-clone friendly: can be passed to a thread). */
  toState(): DetectorState;
  /** Compact JSON state: typed arrays as base64. */
  toJSON(): DetectorState;
}

/** Which side of the expected value counts as anomalous for a signal. */
export type Direction = 'both' | 'above' | 'below';

/**
 * How a deviation becomes a score: the band's half-width never falls below
 * `minDeviation` (absolute) or `minRelativeDeviation * |expected|`, so tiny wiggles
 * on a very steady series do not page anyone.
 */
export interface ScoreOptions {
  direction: Direction;
  minDeviation: number;
  minRelativeDeviation: number;
}

export const DEFAULT_SCORE_OPTIONS: ScoreOptions = { direction: 'both', minDeviation: 0, minRelativeDeviation: 0 };

export class NotEnoughDataError extends Error {
  constructor(
    readonly detector: string,
    readonly have: number,
    readonly need: number,
  ) {
    super(`${detector}: ${have} samples, needs at least ${need}`);
    this.name = 'NotEnoughDataError';
  }
}

export class StateFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateFormatError';
  }
}

/** A one-column matrix over a series of values (shares the buffer). */
export function columnMatrix(values: Float64Array): FeatureMatrix {
  return { rows: values.length, cols: 1, data: values };
}
