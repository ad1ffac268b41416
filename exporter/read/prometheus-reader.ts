import { DEFAULT_MAX_RESPONSE_BYTES, PrometheusHttp, PrometheusHttpOptions } from '../../common/prometheus-http';
import { MatrixStreamParser } from './matrix-stream-parser';
import { keepNamesWhenMixed, mergeSeries, shareTimestamps } from './query-range-response';
import { splitRange } from './range-split';
import { isSourceDown, RangeQuery, RawSeries, Reader, ReaderError, readFailureKind } from './reader';

export interface PrometheusReaderOptions extends PrometheusHttpOptions {
  /** Extra attempts after a network error, timeout or 5xx; 4xx is never retried. */
  retries: number;
  maxPointsPerQuery: number;
  /** A signal whose answer holds more series than this fails (kind too_many_series), alone. */
  maxSeries?: number;
  /** First retry delay; doubles each attempt, with jitter. */
  backoffMs?: number;
}

/**
 * Reads range data through the Prometheus HTTP API (`POST /api/v1/query_range`), which Thanos,
 * Mimir and VictoriaMetrics also serve. Long ranges are split under `maxPointsPerQuery`.
 */
export class PrometheusReader implements Reader {
  private readonly http: PrometheusHttp;
  private readonly backoffMs: number;
  /**
   * Per signal, the most points per piece known to come back under max_response_bytes, learned
   * from answers refused as too large: later reads split there at once instead of being refused
   * first. Kept for the reader's life (a config reload makes a new reader).
   */
  private readonly learnedPoints = new Map<string, number>();

  constructor(private readonly opts: PrometheusReaderOptions) {
    this.http = new PrometheusHttp(opts);
    this.backoffMs = opts.backoffMs ?? 250;
  }
  async queryRange(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]> {
    const maxPoints = Math.min(this.opts.maxPointsPerQuery, this.learnedPoints.get(q.signal) ?? Infinity);
    const pieces = splitRange(q.startSeconds, q.endSeconds, q.stepSeconds, maxPoints);
    const results: RawSeries[][] = [];
    const timing: Timing = { sourceSeconds: 0, parseSeconds: 0 };
    try {
      for (const [start, end] of pieces) results.push(...(await this.readPiece(q, start, end, signal, timing)));
      const merged = await timed(timing, 'parseSeconds', () => shareTimestamps(mergeSeries(keepNamesWhenMixed(results))));
      // Each piece was held to the limit as it streamed; series that come and go can pass it together.
      const limit = this.seriesLimit(q);
      if (merged.length > limit.max)
        throw new ReaderError('too_many_series', `signal ${q.signal}: ${merged.length} series over the range, more than ${limit.max} (${limit.name}): refused`);
      return merged;
    } finally {
      q.onTiming?.(timing);
    }
  }

  /**
   * One piece of the range. An answer larger than max_response_bytes (refused before it is
   * parsed) is read again as two halves, recursively, and the size is remembered for the signal;
   * only a single step too large fails, as `too_large` with what to do. So no answer size stops a
   * read, and memory holds one piece's text at a time.
   */
  private async readPiece(q: RangeQuery, start: number, end: number, signal: AbortSignal, timing: Timing): Promise<RawSeries[][]> {
    try {
      return [await this.withRetries(q, start, end, signal, timing)];
    } catch (err) {
      const points = Math.round((end - start) / q.stepSeconds) + 1;
      if (!(err instanceof ReaderError) || err.kind !== 'too_large') throw err;
      if (points < 2)
        throw new ReaderError(
          'too_large',
          `signal ${q.signal}: the answer for a single step is larger than reader.max_response_bytes (${this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES} bytes): raise it, or narrow the query (fewer series)`,
        );
      const half = Math.ceil(points / 2);
      this.learnedPoints.set(q.signal, Math.min(this.learnedPoints.get(q.signal) ?? Infinity, half));
      const mid = start + (half - 1) * q.stepSeconds;
      return [...(await this.readPiece(q, start, mid, signal, timing)), ...(await this.readPiece(q, mid + q.stepSeconds, end, signal, timing))];
    }
  }

  private async withRetries(q: RangeQuery, start: number, end: number, signal: AbortSignal, timing: Timing): Promise<RawSeries[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(q, start, end, signal, timing);
      } catch (err) {
        const retryable = err instanceof ReaderError && isSourceDown(readFailureKind(err)) && !signal.aborted;
        if (!retryable || attempt >= this.opts.retries) throw err;
        const delay = this.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
        await sleep(delay, signal);
      }
    }
  }

  private async once(q: RangeQuery, start: number, end: number, signal: AbortSignal, timing: Timing): Promise<RawSeries[]> {
    const params = { query: q.query, start: String(start), end: String(end), step: String(q.stepSeconds) };
    // The answer is parsed as it arrives: the time in the parser is the exporter's, the rest the source's.
    const limit = this.seriesLimit(q);
    const parser = new MatrixStreamParser(q.signal, { keep: q.keep, maxSeries: limit.max, limitName: limit.name });
    let parseSeconds = 0;
    const onChunk = (chunk: Buffer) => {
      const t0 = performance.now();
      parser.write(chunk);
      parseSeconds += (performance.now() - t0) / 1000;
    };
    const t0 = performance.now();
    try {
      await this.http.postStream('/api/v1/query_range', params, onChunk, `signal ${q.signal}`, signal);
    } finally {
      timing.sourceSeconds += (performance.now() - t0) / 1000 - parseSeconds;
      timing.parseSeconds += parseSeconds;
    }
    return await timed(timing, 'parseSeconds', () => parser.end());
  }

  /** The read's series limit: the query's own when tighter than reader.max_series. */
  private seriesLimit(q: RangeQuery): { max: number; name: string } {
    const own = this.opts.maxSeries ?? Infinity;
    if (q.maxSeries !== undefined && q.maxSeries < own) return { max: q.maxSeries, name: q.limitName ?? 'the series limit' };
    return { max: own, name: 'reader.max_series' };
  }
}

/** Seconds a read spent waiting for the source and parsing its answers. */
type Timing = { sourceSeconds: number; parseSeconds: number };

/** Runs `fn`, adding its seconds to `timing[key]` whether it succeeds or throws. */
async function timed<T>(timing: Timing, key: keyof Timing, fn: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timing[key] += (performance.now() - t0) / 1000;
  }
}

/**
 * Waits `ms` or until `signal` fires. The timer is not unref()'d: a command whose only work left
 * is a retry (check --source against a down source) would otherwise end mid-retry with exit 0.
 */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', done);
      clearTimeout(t);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
