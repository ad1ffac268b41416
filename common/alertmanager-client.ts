/**
 * The one client of Alertmanager's API v2 silences (https://github.com/prometheus/alertmanager,
 * api/v2/openapi.yaml). Both daemons meet the operator's judgement there: the receiver writes a
 * "not an anomaly" silence, the exporter reads every silence carrying a feedback marker.
 * A deadline for the whole answer and a size limit: a slow or huge Alertmanager cannot stall
 * either daemon.
 */
import axios, { AxiosInstance } from 'axios';

export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** false: the matcher is negated (!= or !~). Absent in Alertmanager before 0.22: true. */
  isEqual?: boolean;
}

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  /** RFC 3339. */
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status?: { state: 'active' | 'pending' | 'expired' | string };
}

export type NewSilence = Omit<Silence, 'id' | 'status'>;

export interface AlertmanagerClientOptions {
  url: string;
  timeoutMs: number;
  /** Answers larger than this are refused (default 8 MiB: about 20,000 silences). */
  maxResponseBytes?: number;
  headers?: Record<string, string>;
  bearerToken?: string;
  basic?: { username: string; password: string };
}

export class AlertmanagerError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AlertmanagerError';
  }
}

export class AlertmanagerClient {
  private readonly http: AxiosInstance;

  constructor(private readonly opts: AlertmanagerClientOptions) {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.bearerToken) headers.Authorization = `Bearer ${opts.bearerToken}`;
    this.http = axios.create({
      baseURL: opts.url.replace(/\/+$/, ''),
      headers,
      auth: opts.basic,
      maxContentLength: opts.maxResponseBytes ?? 8 * 1024 * 1024,
      maxBodyLength: 1024 * 1024,
      // Credentials go to the configured Alertmanager only.
      maxRedirects: 0,
      responseType: 'json',
      validateStatus: () => true,
    });
  }

  /** Every silence Alertmanager holds (active, pending and expired within its retention). */
  async listSilences(): Promise<Silence[]> {
    const body = await this.call<unknown>('get', '/api/v2/silences');
    if (!Array.isArray(body)) throw new AlertmanagerError('GET /api/v2/silences: the answer is not a list');
    return body.filter(isSilence);
  }

  /** Creates a silence; its id. */
  async createSilence(s: NewSilence): Promise<string> {
    const body = await this.call<{ silenceID?: unknown }>('post', '/api/v2/silences', s);
    if (typeof body?.silenceID !== 'string') throw new AlertmanagerError('POST /api/v2/silences: no silenceID in the answer');
    return body.silenceID;
  }

  private async call<T>(method: 'get' | 'post', path: string, data?: unknown): Promise<T> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.opts.timeoutMs);
    try {
      const res = await this.http.request<T>({ method, url: path, data, signal: deadline.signal });
      if (res.status < 200 || res.status >= 300) {
        const text = typeof res.data === 'string' ? res.data : JSON.stringify(res.data ?? '');
        throw new AlertmanagerError(`${method.toUpperCase()} ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
      }
      return res.data;
    } catch (err) {
      if (err instanceof AlertmanagerError) throw err;
      if (deadline.signal.aborted) throw new AlertmanagerError(`${method.toUpperCase()} ${path}: no answer within ${this.opts.timeoutMs} ms`);
      throw new AlertmanagerError(`${method.toUpperCase()} ${path}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

function isSilence(x: unknown): x is Silence {
  const s = x as Silence;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.id === 'string' &&
    typeof s.startsAt === 'string' &&
    typeof s.endsAt === 'string' &&
    typeof s.comment === 'string' &&
    Array.isArray(s.matchers) &&
    s.matchers.every((m) => typeof m?.name === 'string' && typeof m.value === 'string')
  );
}
