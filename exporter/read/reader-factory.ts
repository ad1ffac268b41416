import { readSecret } from '../../common/secrets';
import { ExporterConfig, readerSecretSources } from '../config/config';
import { PrometheusReader } from './prometheus-reader';

/** The reader a config describes: the daemon's and the range backtest's. */
export function createReader(config: ExporterConfig): PrometheusReader {
  const r = config.reader;
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

/** The reader's credentials, from files or environment variables (never from the config itself). */
export function readerSecrets(auth: ExporterConfig['reader']['auth']): { bearerToken?: string; basic?: { username: string; password: string } } {
  const { token, password } = readerSecretSources(auth);
  return {
    bearerToken: token && readSecret(token.source, token.what),
    basic: auth?.basic && password && { username: auth.basic.username, password: readSecret(password.source, password.what) },
  };
}
