import http from 'node:http';
import https from 'node:https';
import axios, { AxiosInstance, AxiosError } from 'axios';
import { mergeSeries, parseQueryRangeBody, shareTimestamps } from './query-range-response';
import { splitRange } from './range-split';
import { RangeQuery, RawSeries, Reader, ReaderError } from './reader';

export interface PrometheusReaderOptions {
  url: string;
  timeoutMs: number;
  /** Extra attempts after a network error, timeout or 5xx; 4xx is never retried. */
  retries: number;
  headers: Record<string, string>;
  /** Sent as Accept-Encoding; `identity` by default, since gzip costs more than it saves on loopback. */
  acceptEncoding: string;
  maxPointsPerQuery: number;
  /** Resolved secrets (see secrets.ts); never logged. */
  bearerToken?: string;
  basic?: { username: string; password: string };
  /** First retry delay; doubles each attempt, with jitter. */
  backoffMs?: number;
}

/**
 * Reads range data through the Prometheus HTTP API (`POST /api/v1/query_range`), which Thanos,
 * Mimir and VictoriaMetrics also serve. Long ranges are split under `maxPointsPerQuery`.
 */
export class PrometheusReader implements Reader {
  private readonly http: AxiosInstance;
  private readonly backoffMs: number;

  constructor(private readonly opts: PrometheusReaderOptions) {
    const headers: Record<string, string> = { ...opts.headers, 'Accept-Encoding': opts.acceptEncoding, Accept: 'application/json' };
    if (opts.bearerToken) headers.Authorization = `Bearer ${opts.bearerToken}`;
    this.http = axios.create({
      baseURL: opts.url.replace(/\/+$/, ''),
      timeout: opts.timeoutMs,
      headers,
      auth: opts.basic,
      responseType: 'text',
      transformResponse: (body: unknown) => body,
      validateStatus: () => true,
      maxContentLength: Infinity,
      maxBodyLength: Infinity,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true }),
    });
    this.backoffMs = opts.backoffMs ?? 250;
  }

  async queryRange(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]> {
    const pieces = splitRange(q.startSeconds, q.endSeconds, q.stepSeconds, this.opts.maxPointsPerQuery);
    const results: RawSeries[][] = [];
    for (const [start, end] of pieces) results.push(await this.withRetries(q, start, end, signal));
    return shareTimestamps(mergeSeries(results));
  }

  private async withRetries(q: RangeQuery, start: number, end: number, signal: AbortSignal): Promise<RawSeries[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(q, start, end, signal);
      } catch (err) {
        const e = err as ReaderError;
        const retryable = e.sourceDown && !signal.aborted;
        if (!retryable || attempt >= this.opts.retries) throw e;
        const delay = this.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
        await sleep(delay, signal);
      }
    }
  }

  private async once(q: RangeQuery, start: number, end: number, signal: AbortSignal): Promise<RawSeries[]> {
    const form = new URLSearchParams({ query: q.query, start: String(start), end: String(end), step: String(q.stepSeconds) });
    let res;
    try {
      res = await this.http.post<string>('/api/v1/query_range', form.toString(), {
        signal,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
    } catch (err) {
      throw toReaderError(err, q.signal, this.opts.timeoutMs, signal);
    }
    const body = typeof res.data === 'string' ? res.data : String(res.data ?? '');
    if (res.status >= 200 && res.status < 300) return parseQueryRangeBody(body, q.signal);
    if (res.status === 400 || res.status === 422) {
      // Prometheus answers a bad query with a JSON error body; keep its message.
      try {
        parseQueryRangeBody(body, q.signal);
      } catch (err) {
        if (err instanceof ReaderError && err.kind === 'promql') throw new ReaderError('promql', err.message, res.status);
      }
    }
    throw new ReaderError('http', `signal ${q.signal}: HTTP ${res.status} from ${this.opts.url}: ${body.slice(0, 200).trim()}`, res.status);
  }
}

function toReaderError(err: unknown, signalName: string, timeoutMs: number, abort: AbortSignal): ReaderError {
  if (abort.aborted || axios.isCancel(err)) return new ReaderError('aborted', `signal ${signalName}: query aborted (cycle timeout or shutdown)`);
  const e = err as AxiosError;
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') return new ReaderError('timeout', `signal ${signalName}: no answer within ${timeoutMs} ms`);
  return new ReaderError('network', `signal ${signalName}: ${e.code ?? 'network error'}: ${e.message}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    t.unref?.();
    function done() {
      signal.removeEventListener('abort', done);
      clearTimeout(t);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
