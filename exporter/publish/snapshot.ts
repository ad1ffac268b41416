/**
 * The immutable result of one cycle. `/metrics` renders only the latest snapshot, so a series
 * that vanished from the source vanishes from `/metrics` (no stale series).
 */
export interface SeriesResult {
  readonly signal: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Time of the newest scored sample, in seconds. */
  readonly timestampSeconds: number;
  readonly value: number;
  /** Per model name (zscore, mad, isolation_forest), on the common scale. */
  readonly scores: Readonly<Record<string, number>>;
  readonly ensemble: number;
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  /** Anomalous now: an ensemble score above 1 within the last `ensemble.hold_samples` samples. */
  readonly anomalous: boolean;
  /** Start of the current anomalous stretch (its first ensemble score above 1), if in one. */
  readonly onsetSeconds?: number;
  /** Inside a maintenance mark's span: published, but the shipped rules do not alert on it. */
  readonly maintenance?: boolean;
}

export interface CorrelationResult {
  readonly signalA: string;
  readonly signalB: string;
  readonly method: 'pearson' | 'spearman';
  /** In [-1, 1], over the correlation window. */
  readonly value: number;
}

export interface GroupSignal {
  readonly signal: string;
  readonly anomalous: boolean;
  readonly onsetSeconds?: number;
  readonly score: number;
  readonly value: number;
  readonly expected: number;
}

export interface GroupResult {
  /** The group's labels (config `reader.group_by`), e.g. {service: "checkout"}. */
  readonly labels: Readonly<Record<string, string>>;
  /** Signals of the group whose ensemble score is above 1 now. */
  readonly anomalousSignals: number;
  /** The group's signals, anomalous ones first by onset. */
  readonly signals: readonly GroupSignal[];
  readonly correlations: readonly CorrelationResult[];
  readonly incident?: { readonly pattern: string; readonly firstSignal: string; readonly hint: string };
  /** The group's multivariate isolation forest score, when that model is enabled and fitted. */
  readonly forestScore?: number;
  /** Per signal, its share (0 to 1, summing to 1) in isolating the forest's newest row: what the group score is about. */
  readonly forestContributions?: Readonly<Record<string, number>>;
}

export interface Snapshot {
  readonly builtAtSeconds: number;
  readonly series: readonly SeriesResult[];
  readonly groups: readonly GroupResult[];
}

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({ builtAtSeconds: 0, series: Object.freeze([]), groups: Object.freeze([]) });
