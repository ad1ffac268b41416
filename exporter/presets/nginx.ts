/**
 * NGINX through the NGINX Prometheus exporter (nginx-prometheus-exporter, Debian's
 * prometheus-nginx-exporter) reading stub_status: requests and connections per NGINX instance.
 * stub_status has no latency and no status codes: the signals are the request rate, the active
 * connections, the connections dropped (accepted but not handled: a worker or file limit), and
 * whether the exporter reaches NGINX at all.
 */
import { firstPresent, Preset, RATE, ratePerSecond, trafficSignal } from './preset';

export const nginx: Preset = {
  name: 'nginx',
  title: 'NGINX through the nginx exporter (nginx_http_requests_total, nginx_connections_*)',
  metrics: ['nginx_http_requests_total', 'nginx_connections_active'],
  groupLabels: ['instance'],
  signals: [
    trafficSignal('requests per second', (by, facts) =>
      firstPresent(facts, ['nginx_http_requests_total']) ? ratePerSecond('nginx_http_requests_total', by) : undefined,
    ),
    {
      name: 'connections',
      kind: 'other',
      unit: 'connections',
      direction: 'both',
      help: 'active client connections',
      minRelativeDeviation: 0.2,
      query: (by, facts) => (firstPresent(facts, ['nginx_connections_active']) ? `sum by (${by}) (nginx_connections_active)` : undefined),
    },
    {
      name: 'dropped',
      kind: 'errors',
      unit: 'connections/s',
      direction: 'above',
      help: 'connections accepted but not handled, per second (worker_connections or a file limit reached)',
      minDeviation: 0.1,
      query: (by, facts) =>
        firstPresent(facts, ['nginx_connections_handled']) && firstPresent(facts, ['nginx_connections_accepted'])
          ? `sum by (${by}) (rate(nginx_connections_accepted[${RATE}])) - sum by (${by}) (rate(nginx_connections_handled[${RATE}]))`
          : undefined,
    },
    {
      name: 'up',
      kind: 'errors',
      unit: 'ratio',
      direction: 'below',
      help: '1 while the exporter reaches NGINX, 0 when it does not',
      minDeviation: 0.5,
      query: (by, facts) => (firstPresent(facts, ['nginx_up']) ? `min by (${by}) (nginx_up)` : undefined),
    },
  ],
};
