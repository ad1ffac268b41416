/**
 * Spring Boot applications through Micrometer's Prometheus registry:
 * `http_server_requests_seconds` (a timer: _count, _sum and _max always; _bucket with
 * `management.metrics.distribution.percentiles-histogram.http.server.requests=true`), with the
 * status in `status` and the application in `application` (a common tag many set) or `job`.
 */
import { errorRatio, errorsSignal, firstLabel, firstPresent, histogramP95, latencySignal, meanOf, Preset, ratePerSecond, trafficSignal } from './preset';

const TIMER = 'http_server_requests_seconds';

export const springBoot: Preset = {
  name: 'spring_boot',
  title: 'Spring Boot / Micrometer (http_server_requests_seconds)',
  metrics: [`${TIMER}_count`, `${TIMER}_bucket`],
  groupLabels: ['application', 'service', 'app', 'job'],
  signals: [
    latencySignal('95th percentile request duration with a percentiles histogram, else the mean', (by, facts) => {
      // The buckets only where the source has them: Micrometer publishes them on request only.
      if (facts?.metrics.has(`${TIMER}_bucket`)) return histogramP95(`${TIMER}_bucket`, by);
      return !facts || facts.metrics.has(`${TIMER}_sum`) ? meanOf(TIMER, by) : undefined;
    }),
    trafficSignal('requests per second', (by, facts) => {
      return firstPresent(facts, [`${TIMER}_count`]) && ratePerSecond(`${TIMER}_count`, by);
    }),
    errorsSignal('share of requests answered with a 5xx status', (by, facts) => {
      if (!firstPresent(facts, [`${TIMER}_count`])) return undefined;
      const status = firstLabel(facts, `${TIMER}_count`, ['status']);
      return status && errorRatio(`${TIMER}_count`, status, by);
    }),
  ],
};
