/**
 * Services in an Istio (Envoy) mesh: `istio_requests_total` and
 * `istio_request_duration_milliseconds`, as the destination's sidecar reports them
 * (`reporter="destination"`), by `destination_service_name` (or the workload).
 */
import { errorRatio, firstLabel, firstPresent, histogramP95, Preset, ratePerSecond } from './preset';

const DESTINATION = '{reporter="destination"}';

export const istio: Preset = {
  name: 'istio',
  title: 'Istio / Envoy service mesh (istio_requests_total, istio_request_duration_milliseconds)',
  metrics: ['istio_requests_total', 'istio_request_duration_milliseconds_bucket'],
  groupLabels: ['destination_service_name', 'destination_workload', 'destination_service'],
  signals: [
    {
      name: 'latency',
      kind: 'latency',
      unit: 'seconds',
      direction: 'above',
      help: '95th percentile request duration at the destination',
      minDeviation: 0.05,
      query: (by, facts) =>
        firstPresent(facts, ['istio_request_duration_milliseconds_bucket'])
          ? `${histogramP95('istio_request_duration_milliseconds_bucket', by, DESTINATION)} / 1000`
          : undefined,
    },
    {
      name: 'traffic',
      kind: 'traffic',
      unit: 'requests/s',
      direction: 'both',
      help: 'requests per second at the destination',
      minRelativeDeviation: 0.2,
      query: (by, facts) => (firstPresent(facts, ['istio_requests_total']) ? ratePerSecond('istio_requests_total', by, DESTINATION) : undefined),
    },
    {
      name: 'errors',
      kind: 'errors',
      unit: 'ratio',
      direction: 'above',
      help: 'share of requests answered with a 5xx response code',
      minDeviation: 0.01,
      query(by, facts) {
        if (!firstPresent(facts, ['istio_requests_total'])) return undefined;
        const status = firstLabel(facts, 'istio_requests_total', ['response_code']);
        return status && errorRatio('istio_requests_total', status, by, DESTINATION);
      },
    },
  ],
};
