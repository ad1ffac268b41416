/**
 * `init` against real Prometheus servers: one holding three hours of every preset's metrics under
 * their real names and label shapes (backfilled with promtool) beside 100,000 other metric names,
 * and one that holds nothing. init finds every preset, writes a config that `check` takes, and
 * `run` with it scores every signal it named, with a /metrics promtool finds clean.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, requireBuiltCli } from './doubles/cli-daemon';
import { checkWithSource, metricsWithScores } from './doubles/exporter-run';
import { backfill, freePort, PrometheusProcess, promtoolCheckMetrics, startPrometheus } from './stack';

const STEP = 60;
const HOURS = 3;

/** One metric family: each series' samples in time order, as OpenMetrics wants them. */
function family(name: string, series: { labels: Record<string, string>; value: (i: number) => number }[], end: number): string {
  const n = (HOURS * 3600) / STEP;
  const out: string[] = [];
  for (const s of series) {
    const labels = Object.entries(s.labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    for (let i = 0; i < n; i++) out.push(`${name}{${labels}} ${s.value(i)} ${end - (n - 1 - i) * STEP}`);
  }
  return out.join('\n');
}

/** A cumulative counter at about `perSecond` with a gentle wiggle. */
const counter =
  (perSecond: number, phase = 0) =>
  (i: number) =>
    Math.round(perSecond * STEP * i + 3 * perSecond * Math.sin(i / 7 + phase));

/** Histogram families (_bucket by `le`, _count, _sum) of requests with a given median, per label set. */
function histogram(base: string, groups: Record<string, string>[], perSecond: number, median: number, unitScale = 1): string[] {
  const les = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5].map((x) => x * unitScale);
  const share = (le: number) => Math.min(1, 0.5 * Math.exp(Math.log(le / (median * unitScale)) * 1.5));
  return [
    family(
      `${base}_bucket`,
      groups.flatMap((g) => [
        ...les.map((le) => ({ labels: { ...g, le: String(le) }, value: (i: number) => Math.floor(counter(perSecond)(i) * share(le)) })),
        { labels: { ...g, le: '+Inf' }, value: counter(perSecond) },
      ]),
      END,
    ),
    family(
      `${base}_count`,
      groups.map((g) => ({ labels: g, value: counter(perSecond) })),
      END,
    ),
    family(
      `${base}_sum`,
      groups.map((g) => ({ labels: g, value: (i: number) => counter(perSecond)(i) * median * unitScale })),
      END,
    ),
  ];
}

const END = Math.floor(Date.now() / 1000 / STEP) * STEP - STEP;
const job = (j: string, instance: string) => ({ job: j, instance });

function presetHistories(): string {
  const http = [
    { service: 'checkout', ...job('shop', '10.0.0.1:8080') },
    { service: 'catalog', ...job('shop', '10.0.0.2:8080') },
  ];
  const otel = [{ service_name: 'cart', job: 'otel/cart', http_request_method: 'GET' }];
  const spring = [{ application: 'billing', uri: '/invoices', method: 'GET', outcome: 'SUCCESS', ...job('spring', '10.0.1.1:8080') }];
  const istio = [{ reporter: 'destination', destination_service_name: 'reviews', destination_workload: 'reviews-v1', source_workload: 'productpage-v1' }];
  const nodes = ['node-a:9100', 'node-b:9100'];
  return [
    // Prometheus client conventions.
    ...histogram('http_request_duration_seconds', http, 20, 0.03),
    family(
      'http_requests_total',
      http.flatMap((g) => [
        { labels: { ...g, code: '200' }, value: counter(19.8) },
        { labels: { ...g, code: '500' }, value: counter(0.2, 1) },
      ]),
      END,
    ),
    // OpenTelemetry, stable semantic conventions: seconds, the status on every series.
    ...histogram(
      'http_server_request_duration_seconds',
      otel.flatMap((g) => [
        { ...g, http_response_status_code: '200' },
        { ...g, http_response_status_code: '503' },
      ]),
      5,
      0.05,
    ),
    // Spring Boot's Micrometer timer without a percentiles histogram.
    family(
      'http_server_requests_seconds_count',
      spring.flatMap((g) => [
        { labels: { ...g, status: '200' }, value: counter(8) },
        { labels: { ...g, status: '500', outcome: 'SERVER_ERROR' }, value: counter(0.1) },
      ]),
      END,
    ),
    family(
      'http_server_requests_seconds_sum',
      spring.flatMap((g) => [
        { labels: { ...g, status: '200' }, value: (i: number) => counter(8)(i) * 0.04 },
        { labels: { ...g, status: '500', outcome: 'SERVER_ERROR' }, value: (i: number) => counter(0.1)(i) * 0.2 },
      ]),
      END,
    ),
    family(
      'http_server_requests_seconds_max',
      spring.map((g) => ({ labels: { ...g, status: '200' }, value: () => 0.3 })),
      END,
    ),
    // Istio: milliseconds.
    ...histogram(
      'istio_request_duration_milliseconds',
      istio.map((g) => ({ ...g, response_code: '200' })),
      12,
      0.02,
      1000,
    ),
    family(
      'istio_requests_total',
      istio.flatMap((g) => [
        { labels: { ...g, response_code: '200' }, value: counter(12) },
        { labels: { ...g, response_code: '503' }, value: counter(0.05) },
      ]),
      END,
    ),
    // The NGINX exporter.
    family('nginx_http_requests_total', [{ labels: job('nginx', '127.0.0.1:9113'), value: counter(30) }], END),
    family('nginx_connections_active', [{ labels: job('nginx', '127.0.0.1:9113'), value: (i) => 10 + (i % 4) }], END),
    family('nginx_connections_accepted', [{ labels: job('nginx', '127.0.0.1:9113'), value: counter(2) }], END),
    family('nginx_connections_handled', [{ labels: job('nginx', '127.0.0.1:9113'), value: counter(2) }], END),
    family('nginx_up', [{ labels: job('nginx', '127.0.0.1:9113'), value: () => 1 }], END),
    // node_exporter.
    family(
      'node_cpu_seconds_total',
      nodes.flatMap((n) =>
        ['0', '1'].flatMap((cpu) =>
          ['idle', 'user', 'system'].map((mode) => ({ labels: { ...job('node', n), cpu, mode }, value: counter(mode === 'idle' ? 0.7 : 0.15) })),
        ),
      ),
      END,
    ),
    family(
      'node_load1',
      nodes.map((n) => ({ labels: job('node', n), value: (i: number) => 0.5 + 0.1 * Math.sin(i / 9) })),
      END,
    ),
    family(
      'node_memory_MemAvailable_bytes',
      nodes.map((n) => ({ labels: job('node', n), value: (i: number) => 4e9 + 1e7 * Math.sin(i / 11) })),
      END,
    ),
    family(
      'node_memory_MemTotal_bytes',
      nodes.map((n) => ({ labels: job('node', n), value: () => 8e9 })),
      END,
    ),
    family(
      'node_disk_io_time_seconds_total',
      nodes.map((n) => ({ labels: { ...job('node', n), device: 'sda' }, value: counter(0.1) })),
      END,
    ),
    family(
      'node_network_receive_bytes_total',
      nodes.flatMap((n) => ['eth0', 'lo'].map((device) => ({ labels: { ...job('node', n), device }, value: counter(2e5) }))),
      END,
    ),
    family(
      'node_network_transmit_bytes_total',
      nodes.flatMap((n) => ['eth0', 'lo'].map((device) => ({ labels: { ...job('node', n), device }, value: counter(1e5) }))),
      END,
    ),
  ].join('\n');
}

/** 100,000 other metric names, one sample each: a large source. */
function manyNames(): string {
  const lines: string[] = [];
  for (let k = 0; k < 100_000; k++) lines.push(`app_metric_${k}_things{job="big"} ${k} ${END}`);
  return lines.join('\n');
}

function init(args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [CLI, 'init', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('init against real Prometheus servers', () => {
  let full: PrometheusProcess;
  let empty: PrometheusProcess;
  let dir: string;

  beforeAll(async () => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), 'ae-init-'));
    full = await startPrometheus({ prepareDataDir: (d) => backfill(d, `${presetHistories()}\n${manyNames()}\n`) });
    empty = await startPrometheus();
  }, 180_000);

  afterAll(async () => {
    await full?.stop();
    await empty?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds every preset among 100,000 metric names, writes a config check takes, and run scores every signal it named', async () => {
    const out = join(dir, 'found.yml');
    const started = Date.now();
    const r = init(['--source', full.url, '--out', out]);
    expect(r).toMatchObject({ code: 0 });
    expect(Date.now() - started).toBeLessThan(60_000);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/holds 100,0\d\d metric names/);
    for (const p of ['prometheus_http', 'opentelemetry_http', 'spring_boot', 'istio', 'nginx', 'node_exporter']) expect(text).toContain(`#   ${p}: `);
    // Each grouped by the label that names its services.
    expect(text).toMatch(/prometheus_http: .*grouped by service \(2 values now\)/);
    expect(text).toMatch(/opentelemetry_http: .*grouped by service_name/);
    expect(text).toMatch(/spring_boot: .*grouped by application/);
    expect(text).toMatch(/istio: .*grouped by destination_service_name/);
    expect(text).toMatch(/nginx: .*grouped by instance/);
    expect(text).toMatch(/node_exporter: .*grouped by instance \(2 values now\)/);
    expect(text).toContain('group_by: [service, service_name, application, destination_service_name, instance]');
    // Spring without its percentiles histogram: the mean.
    expect(text).toContain('sum by (application) (rate(http_server_requests_seconds_sum[5m]))');

    const { output: check, signals } = checkWithSource(out, full.url);
    expect(signals.length).toBeGreaterThanOrEqual(18);
    expect(check).toMatch(new RegExp(`valid \\(${signals.length} signals`));

    const metrics = await metricsWithScores(out, signals, 90_000);
    const promtool = promtoolCheckMetrics(metrics);
    expect(promtool.output).toBe('');
    expect(promtool.ok).toBe(true);
  }, 180_000);

  it('to standard output with no --out; refuses to overwrite a file without --force', () => {
    const r = init(['--source', full.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# Written by `anomaly-exporter init --source http/);
    const existing = join(dir, 'mine.yml');
    writeFileSync(existing, 'mine');
    const refused = init(['--source', full.url, '--out', existing]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('exists; pass --force to overwrite it');
    expect(readFileSync(existing, 'utf8')).toBe('mine');
    expect(init(['--source', full.url, '--out', existing, '--force']).code).toBe(0);
    expect(readFileSync(existing, 'utf8')).toContain('reader:');
  });

  it('carries --header and --bearer-token-file into the config (the file named, never the token), and refuses a token file it cannot read', () => {
    const token = join(dir, 'token');
    writeFileSync(token, 'secret-token-value\n');
    const out = join(dir, 'auth.yml');
    const r = init(['--source', full.url, '--out', out, '--header', 'X-Scope-OrgID: tenant-1', '--bearer-token-file', token]);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain("    'X-Scope-OrgID': 'tenant-1'");
    expect(text).toContain(`auth: {bearer_token_file: '${token}'}`);
    expect(text).not.toContain('secret-token-value');
    const check = checkWithSource(out, full.url).output;
    expect(check).toMatch(/^prometheus_http_latency: ok, 2 series$/m);
    const missing = init(['--source', full.url, '--out', join(dir, 'x.yml'), '--bearer-token-file', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--bearer-token-file: cannot read bearer token file');
    expect(init(['--source', full.url, '--header', 'no colon']).code).toBe(2);
  });

  it('a source with none of the metrics, an unreachable one and a bad URL: a clear message, exit 1 or 2, nothing written', async () => {
    const out = join(dir, 'none.yml');
    const none = init(['--source', empty.url, '--out', out]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`${empty.url} holds 0 metric names, and none of any preset's:`);
    expect(none.stderr).toContain('node_exporter: node_cpu_seconds_total');
    expect(existsSync(out)).toBe(false);

    const closed = await freePort();
    const down = init(['--source', `http://127.0.0.1:${closed}`, '--out', out]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/could not read http:\/\/127\.0\.0\.1:\d+ \(network\)/);
    expect(existsSync(out)).toBe(false);

    expect(init(['--source', 'ftp://x', '--out', out]).code).toBe(2);
    expect(init(['--out', out]).stderr).toContain('--source URL is required');
  });
});
