/**
 * HTTP servers instrumented with OpenTelemetry, exported to Prometheus (the collector's
 * prometheus exporter or remote write, or Prometheus' OTLP receiver). The stable semantic
 * conventions: `http.server.request.duration` in seconds, `http_server_request_duration_seconds`,
 * with `http_response_status_code`. The older ones: `http.server.duration` in milliseconds,
 * `http_server_duration_milliseconds` (or `http_server_duration` from exporters that leave the unit
 * out of the name), with `http_status_code`. The service is `service_name` when resource attributes
 * are promoted to labels, else `job` (`service.namespace/service.name`).
 */
import { errorRatio, errorsSignal, firstLabel, firstPresent, histogramP95, latencySignal, Preset, ratePerSecond, SourceFacts, trafficSignal } from './preset';

interface Histogram {
  base: string;
  /** Multiplies its values into seconds. */
  toSeconds: number;
  status: string;
}

const STABLE: Histogram = { base: 'http_server_request_duration_seconds', toSeconds: 1, status: 'http_response_status_code' };
const OLD_MS: Histogram = { base: 'http_server_duration_milliseconds', toSeconds: 0.001, status: 'http_status_code' };
const OLD_BARE: Histogram = { base: 'http_server_duration', toSeconds: 0.001, status: 'http_status_code' };
const ALL = [STABLE, OLD_MS, OLD_BARE];

/** The histogram the source has (the stable one first); the stable one without facts. */
function histogram(facts?: SourceFacts): Histogram | undefined {
  const bucket = firstPresent(
    facts,
    ALL.map((h) => `${h.base}_bucket`),
  );
  return ALL.find((h) => `${h.base}_bucket` === bucket);
}

export const opentelemetryHttp: Preset = {
  name: 'opentelemetry_http',
  title: 'HTTP servers with OpenTelemetry (http_server_request_duration_seconds; the older http_server_duration)',
  metrics: ALL.map((h) => `${h.base}_bucket`),
  groupLabels: ['service_name', 'job'],
  signals: [
    latencySignal('95th percentile request duration', (by, facts) => {
      const h = histogram(facts);
      if (!h) return undefined;
      const p95 = histogramP95(`${h.base}_bucket`, by);
      return h.toSeconds === 1 ? p95 : `${p95} * ${h.toSeconds}`;
    }),
    trafficSignal('requests per second', (by, facts) => {
      const h = histogram(facts);
      return h && ratePerSecond(`${h.base}_count`, by);
    }),
    errorsSignal('share of requests answered with a 5xx status', (by, facts) => {
      const h = histogram(facts);
      if (!h) return undefined;
      const status = firstLabel(facts, `${h.base}_count`, [h.status]) ?? firstLabel(facts, `${h.base}_bucket`, [h.status]);
      return status && errorRatio(`${h.base}_count`, status, by);
    }),
  ],
};
