/**
 * End to end on the real Prometheus binary: demo service → Prometheus → exporter → Prometheus.
 * One stack for the whole file (the slow part on 2 cores), shared by its cases in order. The
 * demo service's history is backfilled, as the demo does, so the first fit has a full window.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { silentLogger } from '../common/logger';
import { parseConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { DemoService, startDemoService } from '../demo/demo-service';
import { demoHistory } from '../demo/demo-history';
import { loadDashboard, panelQueries } from './grafana-dashboard';
import { backfill, freePort, promtoolCheckMetrics, PrometheusProcess, scrapeJob, startPrometheus, waitFor } from './stack';

jest.setTimeout(240_000);

let demo: DemoService;
let prom: PrometheusProcess;
let exporter: ExporterDaemon;
let exporterUrl: string;
let exporterConfigText: string;
const stateDir = mkdtempSync(join(tmpdir(), 'ae-e2e-state-'));

function exporterConfig(promUrl: string, port: number): string {
  const w = '[10s]';
  return `
reader:
  url: ${promUrl}
  timeout: 5s
  retries: 1
  group_by: [service]
  signals:
    latency:
      query: 'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket${w})))'
      direction: above
      min_deviation: 0.05
    traffic:
      query: 'sum by (service) (rate(http_requests_total${w}))'
      min_relative_deviation: 0.2
    errors:
      query: '(sum by (service) (rate(http_requests_total{code=~"5.."}${w})) or sum by (service) (rate(http_requests_total${w})) * 0) / sum by (service) (rate(http_requests_total${w}))'
      direction: above
      min_deviation: 0.02
scheduler: {step: 1s, infer_every: 2s, fit_every: 5m, fit_window: 10m}
models: {zscore: {adapt_samples: 300}, mad: {adapt_samples: 300}, isolation_forest: {}, pattern: {}, jump: {}, isolation_forest_group: {}}
ensemble: {hold_samples: 3}
server: {listen: "127.0.0.1:${port}", external_url: "http://127.0.0.1:${port}/"}
state: {dir: "${stateDir}", save_every: 5s}
`;
}

const score = async (service: string, signal: string): Promise<number | undefined> => {
  const r = await prom.query(`anomaly_score{service="${service}",signal="${signal}",model="ensemble"}`);
  return r.length ? Number(r[0].value[1]) : undefined;
};

beforeAll(async () => {
  const demoHost = `127.0.0.1:${await freePort()}`;
  const exporterPort = await freePort();
  exporterUrl = `http://127.0.0.1:${exporterPort}`;
  // 12 minutes of the demo service's history (the fit window is 10), ending where the live
  // service starts: the first fit sees a whole window of steady traffic, as after a long run.
  const liveFrom = Date.now() / 1000 + 4;
  const history = demoHistory({
    fromSeconds: liveFrom - 12 * 60,
    toSeconds: liveFrom,
    stepSeconds: 1,
    ratePerService: 20,
    targetLabels: { job: 'demo', instance: demoHost },
    seed: 5,
  });
  prom = await startPrometheus({
    scrapeInterval: '1s',
    ruleFiles: [join(__dirname, '..', 'prometheus', 'rules', 'recording.yml')],
    scrapeConfigs: scrapeJob('demo', demoHost) + scrapeJob('anomaly-exporter', `127.0.0.1:${exporterPort}`, '    honor_labels: true\n'),
    prepareDataDir: (dataDir) => backfill(dataDir, history),
  });
  await new Promise((r) => setTimeout(r, Math.max(0, liveFrom * 1000 - Date.now())));
  demo = await startDemoService({ listen: demoHost, ratePerService: 20, seed: 7 });
  exporterConfigText = exporterConfig(prom.url, exporterPort);
  const config = parseConfig(exporterConfigText, 'e2e.yml');
  exporter = new ExporterDaemon(config, { logger: silentLogger(), version: 'e2e' });
  await exporter.start();
});

afterAll(async () => {
  await exporter?.stop();
  await prom?.stop();
  await demo?.stop();
});

describe('exporter on a real Prometheus', () => {
  it('becomes ready and publishes scores for every service and signal', async () => {
    await waitFor('exporter ready', async () => (await axios.get(`${exporterUrl}/readyz`, { validateStatus: () => true })).status === 200, 30_000);
    // Warm models: every series has an expected band once the models have their minimum samples.
    await waitFor('warm models for all 6 series', async () => (await prom.query('count(anomaly_expected_value)'))[0]?.value[1] === '6', 120_000, 1000);
    const series = await prom.query('anomaly_score{model="ensemble"}');
    const names = series.map((s) => `${s.metric.service}/${s.metric.signal}`).sort();
    expect(names).toEqual(['catalog/errors', 'catalog/latency', 'catalog/traffic', 'checkout/errors', 'checkout/latency', 'checkout/traffic']);
    const models = new Set((await prom.query('anomaly_score{service="checkout",signal="latency"}')).map((s) => s.metric.model));
    expect([...models].sort()).toEqual(['ensemble', 'isolation_forest', 'jump', 'mad', 'pattern', 'zscore']);
  });

  it('raises no false alarm during a quiet period', async () => {
    // Watch 12 s of normal live traffic after the backfilled history (every score since ready).
    await new Promise((r) => setTimeout(r, 12_000));
    const anomalous = await prom.query('max_over_time(anomaly_score{model="ensemble"}[1m]) > 1');
    expect(anomalous.map((s) => `${s.metric.service}/${s.metric.signal}=${s.value[1]}`)).toEqual([]);
  });

  it('flags a latency fault on one service only, and recovers when it clears', async () => {
    const injectedAt = Date.now();
    await axios.post(`${demo.url}/faults`, { service: 'checkout', type: 'latency', magnitude: 0.3 });
    await waitFor('checkout latency score above 1', async () => ((await score('checkout', 'latency')) ?? 0) > 1, 30_000, 500);
    const detectSeconds = (Date.now() - injectedAt) / 1000;
    expect(detectSeconds).toBeLessThan(30);
    // The incident API names the service, the first signal and the pattern.
    const incidents = (await axios.get(`${exporterUrl}/api/v1/incidents`)).data as {
      incidents: { group: Record<string, string>; first_signal: string; pattern: string; hint: string }[];
    };
    expect(incidents.incidents).toHaveLength(1);
    expect(incidents.incidents[0]).toMatchObject({ group: { service: 'checkout' }, first_signal: 'latency', pattern: 'slow_dependency' });
    expect(incidents.incidents[0].hint).toMatch(/^latency rose.*traffic normal: likely a slow dependency, not load$/);
    await waitFor(
      'anomaly_incident_info in Prometheus',
      async () => (await prom.query('anomaly_incident_info{service="checkout",first_signal="latency",pattern="slow_dependency"}')).length === 1,
      10_000,
      500,
    );
    // Every panel of the shipped Grafana dashboard has data, the incident pattern included.
    const empty: string[] = [];
    for (const q of panelQueries(loadDashboard(), { service: 'checkout', rateInterval: '10s' })) {
      if ((await prom.query(q.expr)).length === 0) empty.push(`${q.panel}: ${q.expr}`);
    }
    expect(empty).toEqual([]);
    const services = (await axios.get(`${prom.url}/api/v1/label/service/values`, { params: { 'match[]': 'anomaly_score' } })).data.data as string[];
    expect(services.sort()).toEqual(['catalog', 'checkout']);
    // Let it run a few cycles, then check that nothing else moved since the fault.
    await new Promise((r) => setTimeout(r, 4000));
    const since = Math.ceil((Date.now() - injectedAt) / 1000);
    const others = await prom.query(`max_over_time(anomaly_score{model="ensemble"}[${since}s]) > 1`);
    expect(others.map((s) => `${s.metric.service}/${s.metric.signal}`)).toEqual(['checkout/latency']);
    const onset = await prom.query('anomaly_onset_timestamp_seconds{service="checkout",signal="latency"}');
    expect(onset).toHaveLength(1);
    expect(Number(onset[0].value[1])).toBeGreaterThanOrEqual(injectedAt / 1000 - 2);
    const anomalousSignals = await prom.query('anomaly_anomalous_signals{service="checkout"}');
    expect(anomalousSignals[0]?.value[1]).toBe('1');

    await axios.delete(`${demo.url}/faults`);
    await waitFor(
      'checkout latency score back below 1',
      async () => {
        const s = await score('checkout', 'latency');
        return s !== undefined && s <= 1;
      },
      45_000,
      500,
    );
    // The incident ends ensemble.hold_samples (3 here) samples after the last score above 1.
    await waitFor(
      'checkout latency onset gone',
      async () => (await prom.query('anomaly_onset_timestamp_seconds{service="checkout",signal="latency"}')).length === 0,
      45_000,
      500,
    );
    expect((await prom.query('anomaly_anomalous_signals{service="checkout"}'))[0]?.value[1]).toBe('0');
  });

  it('flags an error burst on the demo service within 20 s, and recovers when it clears', async () => {
    const injectedAt = Date.now();
    await axios.post(`${demo.url}/faults`, { service: 'catalog', type: 'errors', magnitude: 0.2 });
    await waitFor('catalog errors score above 1', async () => ((await score('catalog', 'errors')) ?? 0) > 1, 20_000, 500);
    expect((Date.now() - injectedAt) / 1000).toBeLessThan(20);
    await axios.delete(`${demo.url}/faults`);
    await waitFor(
      'catalog errors onset gone',
      async () => (await prom.query('anomaly_onset_timestamp_seconds{service="catalog",signal="errors"}')).length === 0,
      60_000,
      500,
    );
  });

  it('serves /metrics that promtool check metrics accepts', async () => {
    const text = (await axios.get(`${exporterUrl}/metrics`, { responseType: 'text' })).data as string;
    expect(text).toContain('anomaly_score{');
    expect(text).toContain('anomaly_exporter_source_up 1');
    // The process and Node.js metrics every exporter has (common/process-metrics.ts).
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(text).not.toContain('nodejs_active_handles_total');
    expect(text).toMatch(/anomaly_signal_correlation\{service="checkout",signal_a="latency",signal_b="traffic",method="spearman"\} /);
    const check = promtoolCheckMetrics(text);
    expect(check.output).toBe('');
    expect(check.ok).toBe(true);
  });

  it('publishes its external URL for the rules, and serves the runbooks their links open', async () => {
    // The query the shipped rules' runbook_url template runs (prometheus/rules/anomaly-alerts.yml).
    const info = await prom.query('max by (external_url) (last_over_time(anomaly_exporter_web_info[1d]))');
    expect(info.map((s) => s.metric.external_url)).toEqual([exporterUrl]);
    const page = (await axios.get(`${info[0].metric.external_url}/runbooks`)).data as string;
    for (const alert of ['anomaloussignal', 'anomalousgroup', 'anomalyincident', 'anomalyexporterdown', 'anomalyexporterstale'])
      expect(page).toContain(`id="${alert}"`);
  });

  it('counts queries per signal with no errors', async () => {
    const errors = await prom.query('sum(anomaly_exporter_query_errors_total)');
    const queries = await prom.query('sum(anomaly_exporter_queries_total)');
    expect(Number(errors[0].value[1])).toBe(0);
    expect(Number(queries[0].value[1])).toBeGreaterThan(30);
  });

  it('restarts from saved model state: bands at once, no refit, no warm-up', async () => {
    await exporter.stop(); // saves the state
    exporter = new ExporterDaemon(parseConfig(exporterConfigText, 'e2e.yml'), { logger: silentLogger(), version: 'e2e' });
    await exporter.start();
    const text = await waitFor(
      'bands for all 6 series from the restarted exporter',
      async () => {
        const t = (await axios.get(`${exporterUrl}/metrics`, { responseType: 'text' })).data as string;
        return (t.match(/^anomaly_expected_value\{/gm) ?? []).length === 6 ? t : undefined;
      },
      10_000,
      200,
    );
    // The models came from the state files: the new process has not fitted anything yet.
    expect(text).toMatch(/^anomaly_exporter_fit_duration_seconds_count\{signal="latency"\} 0$/m);
    expect(text).toMatch(/^anomaly_score\{service="checkout",signal="latency",model="isolation_forest"\} /m);
  });
});
