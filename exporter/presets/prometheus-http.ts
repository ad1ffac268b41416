/**
 * HTTP servers instrumented with a Prometheus client library (client_golang, prom-client,
 * client_python, client_java): `http_request_duration_seconds` (a histogram, or a summary) and
 * `http_requests_total` with the status in `code` (or `status`, `status_code`).
 */
import { errorRatio, errorsSignal, firstLabel, firstPresent, histogramP95, latencySignal, meanOf, Preset, ratePerSecond, trafficSignal } from './preset';

const DURATION = 'http_request_duration_seconds';
const STATUS = ['code', 'status', 'status_code'];

/** The request counter: http_requests_total, else the duration's _count. */
const requests = (facts: Parameters<typeof firstPresent>[0]) => firstPresent(facts, ['http_requests_total', `${DURATION}_count`]);

export const prometheusHttp: Preset = {
  name: 'prometheus_http',
  title: 'HTTP servers with a Prometheus client library (http_request_duration_seconds, http_requests_total)',
  metrics: [`${DURATION}_bucket`, `${DURATION}_count`, 'http_requests_total'],
  groupLabels: ['service', 'app', 'application', 'job'],
  signals: [
    latencySignal('95th percentile request duration (the mean when the duration is a summary)', (by, facts) => {
      if (firstPresent(facts, [`${DURATION}_bucket`])) return histogramP95(`${DURATION}_bucket`, by);
      if (facts?.metrics.has(`${DURATION}_count`) && facts.metrics.has(`${DURATION}_sum`)) return meanOf(DURATION, by);
      return undefined;
    }),
    trafficSignal('requests per second', (by, facts) => {
      const counter = requests(facts);
      return counter && ratePerSecond(counter, by);
    }),
    errorsSignal('share of requests answered with a 5xx status', (by, facts) => {
      const counter = requests(facts);
      const status = counter && firstLabel(facts, counter, STATUS);
      return counter && status ? errorRatio(counter, status, by) : undefined;
    }),
  ],
};
