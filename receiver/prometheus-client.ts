/** The receiver's only view of the exporter: queries to Prometheus' HTTP API (common/prometheus-http.ts). */
import { PrometheusHttp } from '../common/prometheus-http';
import { RangeSeries, RangeSource } from './incident-analysis';

export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

interface Envelope<R> {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: R };
}

export class PrometheusClient implements RangeSource {
  private readonly http: PrometheusHttp;

  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    this.http = new PrometheusHttp({ url, timeoutMs });
  }

  /** Runs an instant query; throws with a reason on a network, HTTP or PromQL error. */
  async query(promql: string, signal?: AbortSignal): Promise<InstantSample[]> {
    const body = await this.post<unknown>('/api/v1/query', { query: promql }, signal);
    const result = body.data?.result;
    if (body.data?.resultType === 'scalar' && Array.isArray(result)) return [{ metric: {}, value: Number(result[1]) }];
    if (!Array.isArray(result)) throw new Error('Prometheus answered without a result');
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Runs a range query (for the incident analysis); the same errors as `query`. */
  async queryRange(promql: string, startSeconds: number, endSeconds: number, stepSeconds: number): Promise<RangeSeries[]> {
    const params = { query: promql, start: String(startSeconds), end: String(endSeconds), step: String(stepSeconds) };
    const body = await this.post<{ metric: Record<string, string>; values: [number, string][] }[]>('/api/v1/query_range', params);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
  }

  private async post<R>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<Envelope<R>> {
    // No prefix: callers say it was Prometheus ("confirmation query failed: …", "Prometheus: …").
    const text = await this.http.post(path, params, undefined, signal);
    let body: Envelope<R>;
    try {
      body = JSON.parse(text) as Envelope<R>;
    } catch {
      throw new Error(`Prometheus answered with no JSON (starts with ${JSON.stringify(text.slice(0, 60))})`);
    }
    if (body?.status !== 'success') throw new Error(`Prometheus answered ${body?.error ?? 'without success'}`);
    return body;
  }
}
