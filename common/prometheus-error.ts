/** How a request to Prometheus' HTTP API failed (see prometheus-http.ts); no dependencies, so readers and tests can use it alone. */
export type PrometheusErrorKind = 'network' | 'timeout' | 'aborted' | 'http' | 'promql' | 'parse' | 'too_large' | 'too_many_series';

export class PrometheusError extends Error {
  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PrometheusError';
  }
}
