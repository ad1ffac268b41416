/** The shipped Grafana dashboard, read for tests: its panels' queries with variables substituted. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_FILE = join(__dirname, '..', 'grafana', 'dashboards', 'anomaly-exporter.json');

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
export interface DashboardPanel {
  id: number;
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: DashboardTarget[];
}
export interface Dashboard {
  uid: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query: { query: string } | string; datasource: { uid: string } }[] };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every panel query, with Grafana's variables replaced as Grafana would for `service`. */
export function panelQueries(d: Dashboard, vars: { service: string; rateInterval: string }): { panel: string; expr: string }[] {
  return d.panels
    .filter((p) => p.type !== 'row')
    .flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        panel: p.title,
        expr: t.expr.replaceAll('$service', vars.service).replaceAll('$__rate_interval', vars.rateInterval).replaceAll('$__interval', vars.rateInterval),
      })),
    );
}
