/**
 * The one client of Prometheus' HTTP query API (https://prometheus.io/docs/prometheus/latest/querying/api/),
 * which Thanos, Mimir and VictoriaMetrics also serve. The exporter's reader and the receiver's
 * confirmations and incident analysis both go through it: same headers, auth, keep-alive, and
 * the same failure kinds, so "the source is down" means one thing everywhere.
 */
import http from 'node:http';
import https from 'node:https';
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

/** 64 MiB of JSON: parsed, about ten times that in memory, which still fits the 1 GiB target. */
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
      responseType: 'text',
      transformResponse: (body: unknown) => body,
      validateStatus: () => true,
      maxContentLength: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      maxBodyLength: Infinity,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true }),
    });
  }

  /**
   * POSTs `params` as a form to an API path (`/api/v1/query_range`) and returns the body of a 2xx
   * answer. Throws PrometheusError: `promql` for a query Prometheus refused (400/422 with its
   * message), `http` for other statuses, `network`, `timeout` or `aborted`. `what` starts every
   * message when given (e.g. `signal latency`).
   */
  async post(path: string, params: Record<string, string>, what?: string, signal?: AbortSignal): Promise<string> {
    let res;
    // The deadline: the whole answer within timeoutMs, however the bytes arrive.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.opts.timeoutMs);
    const onAbort = () => deadline.abort();
    if (signal?.aborted) deadline.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      res = await this.http.post<string>(path, new URLSearchParams(params).toString(), {
        signal: deadline.signal,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
    } catch (err) {
      throw this.transportError(err, what, signal, deadline.signal.aborted);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    const body = typeof res.data === 'string' ? res.data : String(res.data ?? '');
    if (res.status >= 200 && res.status < 300) return body;
    const refused = res.status === 400 || res.status === 422 ? apiError(body) : undefined;
    // Prometheus answers a bad query with a JSON error body; keep its message.
    const prefix = what ? `${what}: ` : '';
    if (refused) throw new PrometheusError('promql', `${prefix}${refused.errorType}: ${refused.error}`, res.status);
    throw new PrometheusError('http', `${prefix}HTTP ${res.status} from ${this.opts.url}: ${body.slice(0, 200).trim()}`, res.status);
  }

  private transportError(err: unknown, what: string | undefined, abort: AbortSignal | undefined, pastDeadline: boolean): PrometheusError {
    const prefix = what ? `${what}: ` : '';
    if (abort?.aborted) return new PrometheusError('aborted', `${prefix}query aborted (cycle timeout or shutdown)`);
    const e = err as AxiosError;
    if (pastDeadline || axios.isCancel(err) || e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT')
      return new PrometheusError('timeout', `${prefix}no complete answer within ${this.opts.timeoutMs} ms`);
    if (/maxContentLength/.test(e.message ?? ''))
      return new PrometheusError(
        'too_large',
        `${prefix}answer larger than ${this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES} bytes (reader.max_response_bytes): refused`,
      );
    return new PrometheusError('network', `${prefix}${e.code ?? 'network error'}: ${e.message}`);
  }
}
