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
  /**
   * Follow HTTP 3xx redirects, as Prometheus' http_config `follow_redirects` (default true): at
   * most MAX_REDIRECTS; 307 and 308 repeat the POST, 301, 302 and 303 become a GET with the form
   * in the URL, as Go's client does. Credentials and the configured headers go only to the
   * configured origin: a redirect elsewhere is followed without them. A permanent redirect (301,
   * 308) on the same origin is remembered, so later queries go straight there.
   */
  followRedirects?: boolean;
}

/** Redirects followed for one request, as Go's http.Client. */
export const MAX_REDIRECTS = 10;

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
  private readonly base: URL;
  /** Same-origin permanent redirects seen: request URL → where it moved. */
  private readonly moved = new Map<string, string>();

  constructor(readonly opts: PrometheusHttpOptions) {
    this.base = new URL(opts.url.replace(/\/+$/, '') + '/');
    this.http = axios.create({
      headers: { 'Accept-Encoding': opts.acceptEncoding ?? 'identity', Accept: 'application/json' },
      // Every answer is read as a stream (postStream), which enforces the size limit itself.
      responseType: 'stream',
      validateStatus: () => true,
      maxBodyLength: Infinity,
      // Redirects are followed here (request), where credentials can be kept to their origin.
      maxRedirects: 0,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true }),
    });
  }

  /** The configured headers and credentials: for the configured origin only. */
  private credentials(): Record<string, string> {
    const headers: Record<string, string> = { ...this.opts.headers };
    if (this.opts.bearerToken) headers.Authorization = `Bearer ${this.opts.bearerToken}`;
    else if (this.opts.basic) headers.Authorization = `Basic ${Buffer.from(`${this.opts.basic.username}:${this.opts.basic.password}`).toString('base64')}`;
    return headers;
  }

  /**
   * One POST of a form to an API path, following redirects as `followRedirects` says; the answer
   * is the final one (a 3xx when not followed).
   */
  private async request(path: string, form: string, signal: AbortSignal, what: string | undefined, firstMethod: 'POST' | 'GET') {
    const first = new URL(path.replace(/^\/+/, ''), this.base).toString();
    let url = this.moved.get(first) ?? first;
    let method = firstMethod;
    const prefix = what ? `${what}: ` : '';
    for (let hops = 0; ; hops++) {
      const sameOrigin = new URL(url).origin === this.base.origin;
      const res = await this.http.request<Readable>({
        url: method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${form}` : url,
        method,
        data: method === 'POST' ? form : undefined,
        signal,
        headers: { ...(sameOrigin ? this.credentials() : {}), ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
        // Counted by postStream, where the error can say what to do.
        maxContentLength: -1,
      });
      const location = res.headers.location;
      if (res.status < 300 || res.status >= 400 || res.status === 304 || typeof location !== 'string') return res;
      (res.data as Readable).destroy();
      const next = new URL(location, url).toString();
      if (this.opts.followRedirects === false)
        throw new PrometheusError('http', `${prefix}HTTP ${res.status} redirect to ${next}: not followed (follow_redirects: false)`, res.status);
      if (hops + 1 >= MAX_REDIRECTS) throw new PrometheusError('http', `${prefix}more than ${MAX_REDIRECTS} redirects from ${first}: refused`, res.status);
      if (!/^https?:$/.test(new URL(next).protocol)) throw new PrometheusError('http', `${prefix}redirect to ${next}: not http(s), refused`, res.status);
      if ((res.status === 301 || res.status === 308) && new URL(next).origin === this.base.origin && hops === 0) this.moved.set(first, next);
      if (res.status !== 307 && res.status !== 308) method = 'GET';
      url = next;
    }
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
    return this.stream('POST', path, params, onChunk, what, signal);
  }

  /**
   * As post, with a GET (the parameters in the URL): for the API paths that take no POST, such as
   * `/api/v1/label/__name__/values` and `/api/v1/metadata`.
   */
  async get(path: string, params: Record<string, string | string[]>, what?: string, signal?: AbortSignal): Promise<string> {
    const chunks: Buffer[] = [];
    await this.stream('GET', path, params, (chunk) => chunks.push(chunk), what, signal);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async stream(
    method: 'POST' | 'GET',
    path: string,
    params: Record<string, string | string[]>,
    onChunk: (chunk: Buffer) => void,
    what?: string,
    signal?: AbortSignal,
  ): Promise<void> {
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
        const form = new URLSearchParams(
          Object.entries(params).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]])),
        );
        res = await this.request(path, form.toString(), deadline.signal, what, method);
      } catch (err) {
        if (err instanceof PrometheusError) throw err;
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
