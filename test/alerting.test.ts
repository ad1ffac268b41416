/**
 * Alerting as code, checked with the real tools: promtool (config, rules, rule unit tests),
 * amtool (config, routing, templates) and a real Alertmanager for the inhibition rules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { parse } from 'yaml';
import { AlertmanagerProcess, requireBinary, startAlertmanager, waitFor } from './stack';

const ROOT = join(__dirname, '..');
const PROM = join(ROOT, 'prometheus');
const AM = join(ROOT, 'alertmanager');

function run(bin: string, args: string[], cwd = ROOT): { code: number; out: string } {
  const r = spawnSync(requireBinary(bin, bin === 'amtool' ? 'prometheus-alertmanager' : 'prometheus'), args, { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const ruleFiles = readdirSync(join(PROM, 'rules')).filter((f) => f.endsWith('.yml'));
const rules: Rule[] = ruleFiles.flatMap((f) =>
  (parse(readFileSync(join(PROM, 'rules', f), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules),
);
const alerts = rules.filter((r) => r.alert);

/** The Alertmanager config with its template path pointing into the repository. */
function amConfigForTests(): string {
  return readFileSync(join(AM, 'alertmanager.yml'), 'utf8').replace('/etc/alertmanager/templates/*.tmpl', join(AM, 'templates', '*.tmpl'));
}

describe('prometheus/', () => {
  it('passes promtool check config (which also checks every rule file)', () => {
    const r = run('promtool', ['check', 'config', join(PROM, 'prometheus.yml')]);
    expect(r.out).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
    expect(r.code).toBe(0);
  });

  it('passes promtool check rules', () => {
    const r = run('promtool', ['check', 'rules', ...ruleFiles.map((f) => join(PROM, 'rules', f))]);
    expect(r.code).toBe(0);
  });

  it('passes every rule unit test (promtool test rules)', () => {
    const tests = readdirSync(join(PROM, 'tests')).filter((f) => f.endsWith('.test.yml'));
    expect(tests.length).toBeGreaterThanOrEqual(2);
    const r = run('promtool', ['test', 'rules', ...tests], join(PROM, 'tests'));
    expect(r.out).not.toContain('FAILED');
    expect(r.code).toBe(0);
  });

  it('gives every alert severity, category and family labels and the four annotations', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'AnomalousGroup',
      'AnomalousSignal',
      'AnomalyExporterDown',
      'AnomalyExporterStale',
      'AnomalyIncident',
      'CriticalLatencyP95',
      'HighErrorRatio',
      'HighLatencyP95',
      'HighProcessCPU',
      'HighProcessMemory',
      'ServiceDown',
    ]);
    for (const a of alerts) {
      expect([a.alert, Object.keys(a.labels ?? {}).sort()]).toEqual([a.alert, expect.arrayContaining(['category', 'family', 'severity'])]);
      expect(['critical', 'warning']).toContain(a.labels?.severity);
      for (const k of ['summary', 'description', 'runbook_url', 'dashboard']) expect([a.alert, k, typeof a.annotations?.[k]]).toEqual([a.alert, k, 'string']);
    }
  });

  it('has, for every alert, a unit test where it fires and one where it must not', () => {
    type AlertTest = { alertname: string; exp_alerts: unknown[] };
    const cases: AlertTest[] = readdirSync(join(PROM, 'tests'))
      .filter((f) => f.endsWith('.test.yml'))
      .flatMap((f) =>
        (parse(readFileSync(join(PROM, 'tests', f), 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] }).tests.flatMap((t) => t.alert_rule_test ?? []),
      );
    for (const a of alerts) {
      const mine = cases.filter((c) => c.alertname === a.alert);
      expect([a.alert, mine.some((c) => c.exp_alerts.length > 0), mine.some((c) => c.exp_alerts.length === 0)]).toEqual([a.alert, true, true]);
    }
  });

  it('puts the score, the expected band and the incident pattern into the anomaly alerts’ annotations', () => {
    const signal = alerts.find((a) => a.alert === 'AnomalousSignal')!;
    expect(signal.annotations?.score).toContain('$value');
    expect(signal.annotations?.expected_band).toMatch(/anomaly_expected_value.*anomaly_expected_lower.*anomaly_expected_upper/);
    expect(signal.annotations?.pattern).toContain('anomaly_incident_info');
    expect(signal.expr).toContain('anomaly_score');
  });
});

describe('alertmanager/', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ae-amtool-'));
    writeFileSync(join(dir, 'alertmanager.yml'), amConfigForTests());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes amtool check-config, templates included', () => {
    const r = run('amtool', ['check-config', join(dir, 'alertmanager.yml')]);
    expect(r.out).toMatch(/- 1 templates[\s\S]*SUCCESS/);
    expect(r.code).toBe(0);
  });

  it('keeps no secret in the file: every credential comes from a *_file path', () => {
    const text = readFileSync(join(AM, 'alertmanager.yml'), 'utf8');
    for (const key of ['api_url_file', 'routing_key_file', 'smtp_auth_password_file', 'credentials_file']) expect(text).toContain(key);
    expect(text).not.toMatch(/^\s*(api_url|routing_key|service_key|auth_password|smtp_auth_password|credentials|password):/m);
  });

  const routes: [string, string[], string][] = [
    ['an anomaly warning', ['alertname=AnomalousSignal', 'severity=warning', 'category=anomaly', 'service=checkout'], 'remediation,team'],
    ['a group anomaly', ['alertname=AnomalousGroup', 'severity=warning', 'category=anomaly', 'service=checkout'], 'remediation,team'],
    ['an anomaly incident', ['alertname=AnomalyIncident', 'severity=critical', 'category=anomaly', 'service=checkout'], 'remediation,oncall'],
    ['the exporter down', ['alertname=AnomalyExporterDown', 'severity=critical', 'category=exporter'], 'platform'],
    ['a critical classic alert', ['alertname=ServiceDown', 'severity=critical', 'category=availability'], 'oncall'],
    ['a warning classic alert', ['alertname=HighErrorRatio', 'severity=warning', 'category=errors', 'service=checkout'], 'team'],
    ['an alert without severity', ['alertname=Other'], 'null'],
  ];
  it.each(routes)('routes %s to the right receivers (amtool config routes test)', (_name, labels, receivers) => {
    const r = run('amtool', ['config', 'routes', 'test', `--config.file=${join(dir, 'alertmanager.yml')}`, `--verify.receivers=${receivers}`, ...labels]);
    expect(
      r.out
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('Warning'))[0],
    ).toBe(receivers);
    expect(r.code).toBe(0);
  });

  it('renders Slack and e-mail notifications with the score, the value, the band, the deviation, since when and the pattern', () => {
    const data = {
      receiver: 'slack',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'AnomalousSignal', service: 'checkout', signal: 'latency', severity: 'warning' },
          annotations: {
            summary: 'checkout: latency is anomalous (score 2.50)',
            score: '2.50',
            value: '450ms',
            expected_band: '120ms (80ms to 160ms)',
            deviation: '+275% against expected',
            since: '2026-11-23 09:59:00 +0000 UTC',
            pattern: 'slow_dependency',
            description: 'd',
            runbook_url: 'docs/runbooks.md#anomaloussignal',
          },
          startsAt: '2026-11-23T10:00:00Z',
          endsAt: '0001-01-01T00:00:00Z',
        },
      ],
      groupLabels: { alertname: 'AnomalousSignal', service: 'checkout' },
      commonLabels: { alertname: 'AnomalousSignal', service: 'checkout', signal: 'latency', severity: 'warning' },
      commonAnnotations: {},
      externalURL: 'http://am:9093',
    };
    writeFileSync(join(dir, 'data.json'), JSON.stringify(data));
    const render = (name: string) =>
      execFileSync(
        requireBinary('amtool', 'prometheus-alertmanager'),
        [
          'template',
          'render',
          `--template.glob=${join(AM, 'templates', '*.tmpl')}`,
          `--template.text={{ template "${name}" . }}`,
          `--template.data=${join(dir, 'data.json')}`,
        ],
        { encoding: 'utf8' },
      );
    expect(render('anomaly.slack.title').trim()).toBe('[FIRING:1] AnomalousSignal · checkout');
    // The same colour as the receiver's Block Kit messages (receiver/steps/slack-message.ts).
    expect(render('anomaly.slack.color').trim()).toBe('#d29922');
    const text = render('anomaly.slack.text');
    expect(text).toContain('• score: 2.50 (above 1 is anomalous)');
    expect(text).toContain('• now: 450ms');
    expect(text).toContain('• expected: 120ms (80ms to 160ms)');
    expect(text).toContain('• deviation: +275% against expected');
    expect(text).toContain('• since: 2026-11-23 09:59:00 +0000 UTC');
    expect(text).toContain('• incident pattern: slow_dependency');
    const html = render('anomaly.email.html');
    expect(html).toContain('<tr><th align="left">Incident pattern</th><td>slow_dependency</td></tr>');
    expect(html).toContain('<tr><th align="left">Expected</th><td>120ms (80ms to 160ms)</td></tr>');
    expect(html).toContain('<tr><th align="left">Deviation</th><td>+275% against expected</td></tr>');
  });
});

describe('alertmanager/ inhibition, on a real Alertmanager', () => {
  let am: AlertmanagerProcess;
  beforeAll(async () => {
    // The shipped config, with the templates from the repository and no outgoing webhook.
    const config = amConfigForTests()
      .replace('http://receiver:10191/webhook/alertmanager', 'http://127.0.0.1:9/unused')
      .replace(/credentials_file: .*/, 'credentials: unused-in-test');
    am = await startAlertmanager(config);
  });
  afterAll(async () => am?.stop());

  const post = (alerts: { labels: Record<string, string> }[]) =>
    axios.post(
      `${am.url}/api/v2/alerts`,
      alerts.map((a) => ({ ...a, annotations: { summary: 's' } })),
    );
  async function inhibited(): Promise<Record<string, string[]>> {
    const res = await axios.get(`${am.url}/api/v2/alerts`);
    const out: Record<string, string[]> = {};
    for (const a of res.data as { labels: Record<string, string>; status: { inhibitedBy: string[] } }[])
      out[`${a.labels.alertname}/${a.labels.service ?? '-'}`] = a.status.inhibitedBy;
    return out;
  }

  it('silences a warning under a critical of the same service and family, not of another service', async () => {
    await post([
      { labels: { alertname: 'HighLatencyP95', severity: 'warning', category: 'latency', family: 'latency', service: 'checkout' } },
      { labels: { alertname: 'CriticalLatencyP95', severity: 'critical', category: 'latency', family: 'latency', service: 'checkout' } },
      { labels: { alertname: 'HighLatencyP95', severity: 'warning', category: 'latency', family: 'latency', service: 'catalog' } },
      { labels: { alertname: 'HighErrorRatio', severity: 'warning', category: 'errors', family: 'errors', service: 'checkout' } },
    ]);
    const state = await waitFor(
      'alerts in alertmanager',
      async () => {
        const s = await inhibited();
        return Object.keys(s).length === 4 ? s : undefined;
      },
      10_000,
    );
    expect(state['HighLatencyP95/checkout']).toHaveLength(1);
    expect(state['HighLatencyP95/catalog']).toEqual([]);
    expect(state['HighErrorRatio/checkout']).toEqual([]);
    expect(state['CriticalLatencyP95/checkout']).toEqual([]);
  });

  it('silences every anomaly alert, of any service, while the exporter is down', async () => {
    await post([
      { labels: { alertname: 'AnomalousSignal', severity: 'warning', category: 'anomaly', family: 'anomaly', service: 'checkout', signal: 'latency' } },
      { labels: { alertname: 'AnomalyIncident', severity: 'critical', category: 'anomaly', family: 'anomaly', service: 'catalog' } },
    ]);
    const before = await waitFor(
      'anomaly alerts in alertmanager',
      async () => {
        const s = await inhibited();
        return s['AnomalyIncident/catalog'] && s['AnomalousSignal/checkout'] ? s : undefined;
      },
      10_000,
    );
    expect(before['AnomalyIncident/catalog']).toEqual([]);
    await post([{ labels: { alertname: 'AnomalyExporterDown', severity: 'critical', category: 'exporter', family: 'exporter', job: 'anomaly-exporter' } }]);
    const after = await waitFor(
      'the exporter alert to inhibit',
      async () => {
        const s = await inhibited();
        return s['AnomalyIncident/catalog']?.length ? s : undefined;
      },
      10_000,
    );
    expect(after['AnomalousSignal/checkout']).toHaveLength(1);
    expect(after['AnomalyIncident/catalog']).toHaveLength(1);
    expect(after['HighErrorRatio/checkout']).toEqual([]); // not an anomaly alert
  });
});
