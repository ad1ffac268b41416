/**
 * The one client of Prometheus' HTTP query API (https://prometheus.io/docs/prometheus/latest/querying/api/),
 * which Thanos, Mimir and VictoriaMetrics also serve. The exporter's reader and the receiver's
 * confirmations and incident analysis both go through it: same headers, auth, keep-alive, and
 * the same failure kinds, so "the source is down" means one thing everywhere.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import axios, { AxiosError, AxiosInstance } from 'axios';
import { PrometheusError } from './prometheus-error';

export { PrometheusError } from './prometheus-error';
export type { PrometheusErrorKind } from './prometheus-error';

export interface PrometheusHttpOptions {
  url: string;
  /** A deadline for the whole answer, not an idle timeout: a source that drips bytes is cut too. */
  timeoutMs: number;
  /** Answers larger than this are refused (kind too_large) before they are parsed. Default DEFAULT_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
  headers?: Record<string, string>;
  /** Sent as Accept-Encoding; `identity` by default, since gzip costs more than it saves on loopback. */
  acceptEncoding?: string;
  /** Resolved secrets (see common/secrets.ts); never logged. */
  bearerToken?: string;
  basic?: { username: string; password: string };
}

/** The `status: "error"` envelope of the API, when a body is one. */
export function apiError(body: string): { errorType: string; error: string } | undefined {
  try {
    const d = JSON.parse(body) as { status?: unknown; error?: unknown; errorType?: unknown };
    if (d?.status === 'error') return { errorType: String(d.errorType ?? 'error'), error: String(d.error ?? 'unknown error') };
  } catch {
    /* not JSON */
  }
  return undefined;
}

/** 64 MiB: the receiver's small queries (post holds the answer as one string); the exporter's reader sets its own. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class PrometheusHttp {
  private readonly http: AxiosInstance;

  constructor(readonly opts: PrometheusHttpOptions) {
    const headers: Record<string, string> = { ...opts.headers, 'Accept-Encoding': opts.acceptEncoding ?? 'identity', Accept: 'application/json' };
    if (opts.bearerToken) headers.Authorization = `Bearer ${opts.bearerToken}`;
    this.http = axios.create({
      baseURL: opts.url.replace(/\/+$/, ''),
      headers,
      auth: opts.basic,
      // Every answer is read as a stream (postStream), which enforces the size limit itself.
      responseType: 'stream',
      validateStatus: () => true,
      maxBodyLength: Infinity,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true }),
    });
  }

  /**
   * POSTs `params` as a form to an API path (`/api/v1/query_range`) and returns the body of a 2xx
   * answer. Throws PrometheusError: `promql` for a query Prometheus refused (400/422 with its
   * message), `http` for other statuses, `network`, `timeout`, `too_large` or `aborted`. `what`
   * starts every message when given (e.g. `signal latency`).
   */
  async post(path: string, params: Record<string, string>, what?: string, signal?: AbortSignal): Promise<string> {
    const chunks: Buffer[] = [];
    await this.postStream(path, params, (chunk) => chunks.push(chunk), what, signal);
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * As post, but hands a 2xx answer's body to `onChunk` as it arrives, so a large answer is never
   * one string: the query_range reader parses while the bytes come. The deadline, the size limit
   * and the failure kinds are those of post; a chunk handler that throws ends the request with
   * its error.
   */
  async postStream(path: string, params: Record<string, string>, onChunk: (chunk: Buffer) => void, what?: string, signal?: AbortSignal): Promise<void> {
    // The deadline: the whole answer within timeoutMs, however the bytes arrive.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.opts.timeoutMs);
    const onAbort = () => deadline.abort();
    if (signal?.aborted) deadline.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const limit = this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const prefix = what ? `${what}: ` : '';
    try {
      let res;
      try {
        res = await this.http.post<Readable>(path, new URLSearchParams(params).toString(), {
          signal: deadline.signal,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          // Counted below, where the error can say what to do.
          maxContentLength: -1,
        });
      } catch (err) {
        throw this.transportError(err, what, signal, deadline.signal.aborted);
      }
      const ok = res.status >= 200 && res.status < 300;
      const errorBody: Buffer[] = [];
      let bytes = 0;
      try {
        for await (const chunk of res.data as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > limit) {
            res.data.destroy();
            throw new PrometheusError('too_large', `${prefix}answer larger than ${limit} bytes (reader.max_response_bytes): refused`);
          }
          // An error answer is kept whole (it is small) to quote Prometheus' message.
          if (ok) onChunk(chunk);
          else errorBody.push(chunk);
        }
      } catch (err) {
        res.data.destroy();
        if (err instanceof PrometheusError) throw err;
        if (!(err instanceof AxiosError) && !deadline.signal.aborted && !isStreamError(err)) throw err;
        throw this.transportError(err, what, signal, deadline.signal.aborted);
      }
      if (ok) return;
      const body = Buffer.concat(errorBody).toString('utf8');
      const refused = res.status === 400 || res.status === 422 ? apiError(body) : undefined;
      // Prometheus answers a bad query with a JSON error body; keep its message.
      if (refused) throw new PrometheusError('promql', `${prefix}${refused.errorType}: ${refused.error}`, res.status);
      throw new PrometheusError('http', `${prefix}HTTP ${res.status} from ${this.opts.url}: ${body.slice(0, 200).trim()}`, res.status);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private transportError(err: unknown, what: string | undefined, abort: AbortSignal | undefined, pastDeadline: boolean): PrometheusError {
    const prefix = what ? `${what}: ` : '';
    if (abort?.aborted) return new PrometheusError('aborted', `${prefix}query aborted (cycle timeout or shutdown)`);
    const e = err as AxiosError;
    if (pastDeadline || axios.isCancel(err) || e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT')
      return new PrometheusError('timeout', `${prefix}no complete answer within ${this.opts.timeoutMs} ms`);
    return new PrometheusError('network', `${prefix}${e.code ?? 'network error'}: ${e.message}`);
  }
}

/** A transport failure while the body streams (reset, premature close), as opposed to a bug in a chunk handler. */
function isStreamError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z_]+$/.test(code);
}
