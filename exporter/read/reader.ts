import { PrometheusError, PrometheusErrorKind } from '../../common/prometheus-error';

/** What the pipeline needs from a source: range queries that fail as data, never as crashes. */
export interface RangeQuery {
  /** The signal's name, for error messages and self-metrics. */
  signal: string;
  query: string;
  startSeconds: number;
  endSeconds: number;
  stepSeconds: number;
  /**
   * Told, when the read is done, how long the source took to answer (request to last byte, every
   * piece and retry) and how long the answer took to parse: query_duration_seconds measures the
   * source, parse_duration_seconds the exporter. A reader without a wire does not call it.
   */
  onTiming?: (t: { sourceSeconds: number; parseSeconds: number }) => void;
  /**
   * Only the series this keeps are wanted (a replica's share): a reader may drop the others as
   * soon as it has parsed them, and they do not count against its series limit (max_series is
   * what one replica scores, not what the source holds).
   */
  keep?: (labels: Record<string, string>) => boolean;
  /**
   * A tighter series limit for this read than the reader's own (the Analyse API's), named in the
   * error as `limitName`. Either limit is enforced as the answer streams: the read is abandoned at
   * the first series past it, so what one request may hold is bounded before it is read.
   */
  maxSeries?: number;
  limitName?: string;
}

export interface RawSeries {
  /** Label set as returned by the source; `__name__` removed, or kept as `name` when the answer mixes names. */
  labels: Record<string, string>;
  /** Sample times in seconds, ascending. */
  timestamps: Float64Array;
  /** Values; NaN and ±Inf are kept as they came. */
  values: Float64Array;
}

export interface Reader {
  queryRange(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]>;
}

/** A reader fails with the shared Prometheus client's error kinds (common/prometheus-http.ts). */
export { PrometheusError as ReaderError } from '../../common/prometheus-error';
export type { PrometheusErrorKind as ReaderErrorKind } from '../../common/prometheus-error';

/**
 * Why a signal's read failed, as reported per signal: a reader error's kind with HTTP split into
 * `http5xx` (the source failing) and `http` (it refused the request), or `internal` for anything
 * that is not a ReaderError.
 */
export type ReadFailureKind = PrometheusErrorKind | 'http5xx' | 'internal';

/** The kinds that mean the source itself was unreachable or failing, not that it refused the query. */
const SOURCE_DOWN: readonly ReadFailureKind[] = ['network', 'timeout', 'http5xx'];

export function readFailureKind(err: unknown): ReadFailureKind {
  if (!(err instanceof PrometheusError)) return 'internal';
  return err.kind === 'http' && (err.status ?? 0) >= 500 ? 'http5xx' : err.kind;
}

/** True when a read failed because the source was down (unreachable, timing out or answering 5xx). */
export function isSourceDown(kind: ReadFailureKind): boolean {
  return SOURCE_DOWN.includes(kind);
}
