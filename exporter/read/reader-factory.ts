import { readSecret } from '../../common/secrets';
import { ExporterConfig } from '../config/config';
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
    maxPointsPerQuery: r.max_points_per_query,
    maxResponseBytes: r.max_response_bytes,
    maxSeries: r.max_series,
    ...readerSecrets(r.auth),
  });
}

/** The reader's credentials, from files or environment variables (never from the config itself). */
export function readerSecrets(auth: ExporterConfig['reader']['auth']): { bearerToken?: string; basic?: { username: string; password: string } } {
  if (!auth) return {};
  const token = auth.bearer_token_file || auth.bearer_token_env ? { file: auth.bearer_token_file, env: auth.bearer_token_env } : undefined;
  return {
    bearerToken: token && readSecret(token, 'bearer token'),
    basic: auth.basic && { username: auth.basic.username, password: readSecret({ file: auth.basic.password_file, env: auth.basic.password_env }, 'password') },
  };
}
