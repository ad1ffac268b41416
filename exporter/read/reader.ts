/** What the pipeline needs from a source: range queries that fail as data, never as crashes. */
export interface RangeQuery {
  /** The signal's name, for error messages and self-metrics. */
  signal: string;
  query: string;
  startSeconds: number;
  endSeconds: number;
  stepSeconds: number;
}

export interface RawSeries {
  /** Label set as returned by the source (`__name__` removed). */
  labels: Record<string, string>;
  /** Sample times in seconds, ascending. */
  timestamps: Float64Array;
  /** Values; NaN and ±Inf are kept as they came. */
  values: Float64Array;
}

export interface Reader {
  queryRange(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]>;
}

export type ReaderErrorKind = 'network' | 'timeout' | 'aborted' | 'http' | 'promql' | 'parse';

export class ReaderError extends Error {
  constructor(
    readonly kind: ReaderErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ReaderError';
  }

  /** True when the source itself was not reachable or failing (as opposed to rejecting the query). */
  get sourceDown(): boolean {
    return this.kind === 'network' || this.kind === 'timeout' || (this.kind === 'http' && (this.status ?? 0) >= 500);
  }
}
