/**
 * Services in an Istio (Envoy) mesh: `istio_requests_total` and
 * `istio_request_duration_milliseconds`, as the destination's sidecar reports them
 * (`reporter="destination"`), by `destination_service_name` (or the workload).
 */
import { errorRatio, errorsSignal, firstLabel, firstPresent, histogramP95, latencySignal, Preset, ratePerSecond, trafficSignal } from './preset';

const DESTINATION = '{reporter="destination"}';

export const istio: Preset = {
  name: 'istio',
  title: 'Istio / Envoy service mesh (istio_requests_total, istio_request_duration_milliseconds)',
  metrics: ['istio_requests_total', 'istio_request_duration_milliseconds_bucket'],
  groupLabels: ['destination_service_name', 'destination_workload', 'destination_service'],
  signals: [
    latencySignal('95th percentile request duration at the destination', (by, facts) =>
      firstPresent(facts, ['istio_request_duration_milliseconds_bucket'])
        ? `${histogramP95('istio_request_duration_milliseconds_bucket', by, DESTINATION)} / 1000`
        : undefined,
    ),
    trafficSignal('requests per second at the destination', (by, facts) =>
      firstPresent(facts, ['istio_requests_total']) ? ratePerSecond('istio_requests_total', by, DESTINATION) : undefined,
    ),
    errorsSignal('share of requests answered with a 5xx response code', (by, facts) => {
      if (!firstPresent(facts, ['istio_requests_total'])) return undefined;
      const status = firstLabel(facts, 'istio_requests_total', ['response_code']);
      return status && errorRatio('istio_requests_total', status, by, DESTINATION);
    }),
  ],
};
