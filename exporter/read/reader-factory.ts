import { PrometheusReader } from './prometheus-reader';
import { readerSecrets, ReaderSettings } from './reader-settings';

/** The reader a config's `reader` section describes: the daemon's and the range backtest's. */
export function createReader(r: ReaderSettings): PrometheusReader {
  return new PrometheusReader({
    url: r.url,
    timeoutMs: r.timeout,
    retries: r.retries,
    headers: r.headers,
    acceptEncoding: r.accept_encoding,
    followRedirects: r.follow_redirects,
    maxPointsPerQuery: r.max_points_per_query,
    maxResponseBytes: r.max_response_bytes,
    maxSeries: r.max_series,
    ...readerSecrets(r.auth),
  });
}
