import { ExporterConfig } from '../config/config';
import { PrometheusReader } from './prometheus-reader';
import { resolveReaderSecrets } from './secrets';

/** The reader a config describes: the daemon's and the range backtest's. */
export function createReader(config: ExporterConfig): PrometheusReader {
  const r = config.reader;
  return new PrometheusReader({
    url: r.url,
    timeoutMs: r.timeout,
    retries: r.retries,
    headers: r.headers,
    acceptEncoding: r.accept_encoding,
    maxPointsPerQuery: r.max_points_per_query,
    ...resolveReaderSecrets(r.auth),
  });
}
