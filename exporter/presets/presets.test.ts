import { ConfigError } from '../../common/errors';
import { parseConfig } from '../config/config';
import { promqlSyntaxProblem } from '../config/promql-syntax';
import { expandPresets, PRESET_NAMES, presetNamed, PRESETS, presetSignalEntries, SourceFacts } from '.';

/** Facts of a source holding `metrics`, each with the given labels. */
function facts(metrics: Record<string, string[]>): SourceFacts {
  return { metrics: new Set(Object.keys(metrics)), labels: (m) => new Set(metrics[m] ?? []) };
}

const preset = (name: string) => presetNamed(name)!;
const signal = (p: string, s: string) => preset(p).signals.find((x) => x.name === s)!;

describe('presets', () => {
  it('each names its metrics, a group label and signals with units, and every query parses as PromQL, with facts and without', () => {
    expect(PRESET_NAMES).toEqual(['prometheus_http', 'opentelemetry_http', 'spring_boot', 'istio', 'nginx', 'node_exporter']);
    for (const p of PRESETS) {
      expect(p.metrics.length).toBeGreaterThan(0);
      expect(p.groupLabels.length).toBeGreaterThan(0);
      // Every metric name the preset's queries read, with every label they might look for.
      const read = p.signals.flatMap((s) => s.query('x')!.match(/[a-z][a-zA-Z0-9_]*_[a-zA-Z0-9_]+/g) ?? []);
      const all = facts(
        Object.fromEntries(
          [...p.metrics, ...p.metrics.map((m) => m.replace(/_bucket$/, '_sum')), ...p.metrics.map((m) => m.replace(/_bucket$/, '_count')), ...read].map((m) => [
            m,
            [...p.groupLabels, 'code', 'status', 'http_response_status_code', 'http_status_code', 'response_code'],
          ]),
        ),
      );
      for (const s of p.signals) {
        expect(s.unit).toMatch(/\S/);
        for (const [by, q] of [
          [p.groupLabels[0], s.query(p.groupLabels[0])],
          ['service, instance', s.query('service, instance')],
          [p.groupLabels[0], s.query(p.groupLabels[0], all)],
        ]) {
          // Every preset's signal has a query without facts (a config's `preset:`) and with all its metrics.
          expect([p.name, s.name, typeof q]).toEqual([p.name, s.name, 'string']);
          expect([s.name, q, promqlSyntaxProblem(q!)]).toEqual([s.name, q, undefined]);
          expect(q).toContain(by);
        }
      }
    }
  });

  it('prometheus_http: the p95 from a histogram, the mean from a summary, the status label the source uses, nothing without one', () => {
    const latency = signal('prometheus_http', 'latency');
    const errors = signal('prometheus_http', 'errors');
    expect(latency.query('service', facts({ http_request_duration_seconds_bucket: ['service', 'le'] }))).toBe(
      'histogram_quantile(0.95, sum by (le, service) (rate(http_request_duration_seconds_bucket[5m])))',
    );
    const summary = facts({ http_request_duration_seconds_count: ['job', 'status'], http_request_duration_seconds_sum: ['job', 'status'] });
    expect(latency.query('job', summary)).toBe(
      'sum by (job) (rate(http_request_duration_seconds_sum[5m])) / sum by (job) (rate(http_request_duration_seconds_count[5m]))',
    );
    // No http_requests_total: the duration's _count counts the requests, with its `status` label.
    expect(errors.query('job', summary)).toBe(
      '(sum by (job) (rate(http_request_duration_seconds_count{status=~"5.."}[5m])) or sum by (job) (rate(http_request_duration_seconds_count[5m])) * 0) / sum by (job) (rate(http_request_duration_seconds_count[5m]))',
    );
    expect(errors.query('service', facts({ http_requests_total: ['service', 'method'] }))).toBeUndefined();
    expect(latency.query('service', facts({ http_requests_total: ['service', 'code'] }))).toBeUndefined();
  });

  it('opentelemetry_http: the stable histogram in seconds, else the older one in milliseconds, each with its status label', () => {
    const latency = signal('opentelemetry_http', 'latency');
    const errors = signal('opentelemetry_http', 'errors');
    const stable = facts({ http_server_request_duration_seconds_bucket: ['service_name', 'http_response_status_code', 'le'] });
    expect(latency.query('service_name', stable)).toBe(
      'histogram_quantile(0.95, sum by (le, service_name) (rate(http_server_request_duration_seconds_bucket[5m])))',
    );
    expect(errors.query('service_name', stable)).toContain('http_server_request_duration_seconds_count{http_response_status_code=~"5.."}');
    const old = facts({ http_server_duration_milliseconds_bucket: ['job', 'http_status_code', 'le'] });
    expect(latency.query('job', old)).toBe('histogram_quantile(0.95, sum by (le, job) (rate(http_server_duration_milliseconds_bucket[5m]))) * 0.001');
    expect(errors.query('job', old)).toContain('http_server_duration_milliseconds_count{http_status_code=~"5.."}');
    const bare = facts({ http_server_duration_bucket: ['job', 'http_status_code', 'le'] });
    expect(latency.query('job', bare)).toContain('rate(http_server_duration_bucket[5m]))) * 0.001');
  });

  it('spring_boot: the mean from the timer unless the source has its percentiles histogram; istio: the destination reporter, in seconds', () => {
    const latency = signal('spring_boot', 'latency');
    expect(latency.query('application')).toContain('http_server_requests_seconds_sum');
    expect(
      latency.query('application', facts({ http_server_requests_seconds_bucket: ['application'], http_server_requests_seconds_count: ['application'] })),
    ).toContain('histogram_quantile(0.95');
    expect(signal('istio', 'latency').query('destination_service_name')).toBe(
      'histogram_quantile(0.95, sum by (le, destination_service_name) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[5m]))) / 1000',
    );
    expect(signal('istio', 'errors').query('destination_service_name')).toContain('istio_requests_total{reporter="destination", response_code=~"5.."}');
  });

  it('names a signal as its preset does unless two presets chosen share the name, and says the kind where the name does not', () => {
    const items = ['prometheus_http', 'nginx'].flatMap((n) => preset(n).signals.map((s) => ({ preset: preset(n), signal: s, query: s.query('x')! })));
    const entries = presetSignalEntries(items);
    expect(entries.map((e) => e.name)).toEqual(['latency', 'prometheus_http_traffic', 'errors', 'nginx_traffic', 'connections', 'dropped', 'up']);
    expect(entries.find((e) => e.name === 'nginx_traffic')!.config).toMatchObject({
      kind: 'traffic',
      unit: 'requests/s',
      direction: 'both',
      min_relative_deviation: 0.2,
    });
    expect(entries.find((e) => e.name === 'latency')!.config.kind).toBeUndefined();
    expect(expandPresets(['node_exporter']).groupBy).toEqual(['instance']);
    expect(expandPresets(['prometheus_http', 'node_exporter']).groupBy).toEqual(['service', 'instance']);
  });
});

describe('a config with preset:', () => {
  it("takes the preset's signals, grouped by its service label; its own signals win on a name, and its group_by is what the queries aggregate by", () => {
    const c = parseConfig('preset: node_exporter\nreader: {url: "http://127.0.0.1:9090"}\n', 'p.yml');
    expect(Object.keys(c.reader.signals)).toEqual(['cpu', 'load', 'memory', 'disk', 'network']);
    expect(c.reader.group_by).toEqual(['instance']);
    expect(c.reader.signals.cpu).toMatchObject({ unit: 'ratio', direction: 'above', kind: 'other', min_deviation: 0.1 });
    expect(c.reader.signals.cpu.query).toBe('1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))');

    const mine = parseConfig(
      `preset: [prometheus_http, nginx]
reader:
  url: http://127.0.0.1:9090
  group_by: [cluster, service]
  signals:
    latency: {query: 'max by (cluster, service) (my_p99_seconds)', unit: seconds, direction: above}
    queue: {query: 'sum by (cluster, service) (queue_depth)'}
`,
      'p.yml',
    );
    expect(mine.reader.group_by).toEqual(['cluster', 'service']);
    expect(mine.reader.signals.latency.query).toBe('max by (cluster, service) (my_p99_seconds)');
    expect(mine.reader.signals.errors.query).toContain('sum by (cluster, service) (rate(http_requests_total{code=~"5.."}[5m]))');
    expect(Object.keys(mine.reader.signals)).toEqual(expect.arrayContaining(['prometheus_http_traffic', 'nginx_traffic', 'queue', 'up']));
  });

  it('refuses an unknown preset with the list of presets (exit 2 as any config error)', () => {
    let err: unknown;
    try {
      parseConfig('preset: prometheus\nreader: {url: "http://127.0.0.1:9090"}\n', 'p.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^p\.yml: preset\.0: .*prometheus_http.*node_exporter/m);
  });
});
