/** The receiver's only view of the exporter: queries to Prometheus' HTTP API. */
import axios from 'axios';
import { RangeSeries, RangeSource } from './incident-analysis';

export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

export class PrometheusClient implements RangeSource {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {}

  /** Runs an instant query; throws with a reason on a network, HTTP or PromQL error. */
  async query(promql: string, signal?: AbortSignal): Promise<InstantSample[]> {
    const res = await axios.post(`${this.url.replace(/\/$/, '')}/api/v1/query`, new URLSearchParams({ query: promql }), {
      timeout: this.timeoutMs,
      signal,
      validateStatus: () => true,
    });
    const body = res.data as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    if (res.status !== 200 || body?.status !== 'success') throw new Error(`Prometheus answered ${res.status}: ${body?.error ?? 'no error message'}`);
    const result = body.data?.result;
    if (body.data?.resultType === 'scalar' && Array.isArray(result)) return [{ metric: {}, value: Number(result[1]) }];
    if (!Array.isArray(result)) throw new Error('Prometheus answered without a result');
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Runs a range query (for the incident analysis); the same errors as `query`. */
  async queryRange(promql: string, startSeconds: number, endSeconds: number, stepSeconds: number): Promise<RangeSeries[]> {
    const params = new URLSearchParams({ query: promql, start: String(startSeconds), end: String(endSeconds), step: String(stepSeconds) });
    const res = await axios.post(`${this.url.replace(/\/$/, '')}/api/v1/query_range`, params, { timeout: this.timeoutMs, validateStatus: () => true });
    const body = res.data as { status?: string; error?: string; data?: { result?: { metric: Record<string, string>; values: [number, string][] }[] } };
    if (res.status !== 200 || body?.status !== 'success') throw new Error(`Prometheus answered ${res.status}: ${body?.error ?? 'no error message'}`);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
  }
}
