/** The receiver's only view of the exporter: instant queries to Prometheus' HTTP API. */
import axios from 'axios';

export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

export class PrometheusClient {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {}

  /** Runs an instant query; throws with a reason on a network, HTTP or PromQL error. */
  async query(promql: string, signal?: AbortSignal): Promise<InstantSample[]> {
    const res = await axios.post(`${this.url.replace(/\/$/, '')}/api/v1/query`, new URLSearchParams({ query: promql }), { timeout: this.timeoutMs, signal, validateStatus: () => true });
    const body = res.data as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    if (res.status !== 200 || body?.status !== 'success') throw new Error(`Prometheus answered ${res.status}: ${body?.error ?? 'no error message'}`);
    const result = body.data?.result;
    if (body.data?.resultType === 'scalar' && Array.isArray(result)) return [{ metric: {}, value: Number(result[1]) }];
    if (!Array.isArray(result)) throw new Error('Prometheus answered without a result');
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }
}
