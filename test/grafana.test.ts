/** The Grafana provisioning and dashboard, checked for structure (Grafana itself is not installable here). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadDashboard, panelQueries } from './grafana-dashboard';

const GRAFANA = join(__dirname, '..', 'grafana');

describe('grafana/', () => {
  const dashboard = loadDashboard();
  const datasources = (
    parse(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: { uid: string; type: string; url: string }[] }
  ).datasources;

  it('provisions a Prometheus datasource whose uid every panel and target uses', () => {
    expect(datasources).toHaveLength(1);
    const [ds] = datasources;
    expect(ds.type).toBe('prometheus');
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect([p.title, p.datasource?.uid]).toEqual([p.title, ds.uid]);
      for (const t of p.targets ?? []) expect([p.title, t.datasource?.uid]).toEqual([p.title, ds.uid]);
    }
    expect(dashboard.templating.list.every((v) => v.datasource.uid === ds.uid)).toBe(true);
  });

  it('provisions the dashboard directory the compose file mounts', () => {
    const providers = (
      parse(readFileSync(join(GRAFANA, 'provisioning', 'dashboards', 'anomaly-exporter.yml'), 'utf8')) as { providers: { options: { path: string } }[] }
    ).providers;
    expect(providers[0].options.path).toBe('/var/lib/grafana/dashboards');
    expect(readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8')).toContain('./grafana/dashboards:/var/lib/grafana/dashboards:ro');
  });

  it('has a service variable, and every panel has a query that uses it or is about the exporter', () => {
    const service = dashboard.templating.list.find((v) => v.name === 'service');
    expect(service?.type).toBe('query');
    expect(JSON.stringify(service?.query)).toContain('label_values(anomaly_score, service)');
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect([p.title, (p.targets ?? []).length > 0]).toEqual([p.title, true]);
      for (const t of p.targets ?? []) expect([p.title, t.expr.includes('$service') || t.expr.includes('anomaly_exporter_')]).toEqual([p.title, true]);
    }
  });

  it('shows what users asked for: band, score with threshold, anomalous count, correlation, pattern, exporter health', () => {
    const all = panelQueries(dashboard, { service: 's', rateInterval: '1m' })
      .map((q) => q.expr)
      .join('\n');
    for (const m of [
      'anomaly_expected_lower',
      'anomaly_expected_upper',
      'anomaly_score{model="ensemble"',
      'anomaly_anomalous_signals',
      'anomaly_signal_correlation',
      'anomaly_incident_info',
      'anomaly_exporter_cycle_duration_seconds_bucket',
      'anomaly_exporter_query_errors_total',
      'anomaly_exporter_series',
    ]) {
      expect([m, all.includes(m)]).toEqual([m, true]);
    }
    const score = dashboard.panels.find((p) => p.title.startsWith('Anomaly score')) as unknown as {
      fieldConfig: { defaults: { thresholds: { steps: { value: number | null }[] } } };
    };
    expect(score.fieldConfig.defaults.thresholds.steps.map((s) => s.value)).toEqual([null, 1]);
  });
});
