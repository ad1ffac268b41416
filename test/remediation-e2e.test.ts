/**
 * The whole loop with real parts: the demo service, the exporter, the real Prometheus (rules) and
 * Alertmanager, and the remediation receiver. A latency fault fires the anomaly alert; Alertmanager
 * delivers it; in live mode the runbook restarts the demo service (clearing the fault), the alert
 * resolves and the resolved notification closes the episode with its times recorded. In dry_run
 * the decision is recorded and the fault stays.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { silentLogger } from '../common/logger';
import { DemoService, startDemoService } from '../demo/demo-service';
import { parseConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { ReceiverDaemon } from '../receiver/receiver-daemon';
import { parseReceiverConfig } from '../receiver/receiver-config';
import { startTarget } from './doubles/receiver-test-kit';
import { demoHistory } from '../demo/demo-history';
import {
  AlertmanagerProcess,
  backfill,
  freePort,
  PrometheusProcess,
  promtoolCheckMetrics,
  scrapeJob,
  startAlertmanager,
  startPrometheus,
  waitFor,
} from './stack';

jest.setTimeout(240_000);

let demo: DemoService;
let prom: PrometheusProcess;
let am: AlertmanagerProcess;
let exporter: ExporterDaemon;
let receiver: ReceiverDaemon | undefined;
let receiverPort: number;
let llmUrl: string;
let llm: Awaited<ReturnType<typeof startTarget>>;
let notified: Awaited<ReturnType<typeof startTarget>>;
const dir = mkdtempSync(join(tmpdir(), 'ae-loop-'));

// Rules with the shipped rule's shape, windows shrunk for a 1 s scrape.
const RULES = `groups:
  - name: anomaly
    rules:
      - alert: AnomalousSignal
        expr: max by (service, signal) (max_over_time(anomaly_score{model="ensemble"}[15s])) > 1
        labels: {severity: warning, category: anomaly, family: anomaly}
        annotations:
          summary: '{{ $labels.service }}: {{ $labels.signal }} is anomalous'
          score: '{{ printf "%.2f" $value }}'
`;

function receiverConfig(mode: 'live' | 'dry_run', db: string): string {
  const demoHost = demo.url.replace('http://', '');
  return `listen: 127.0.0.1:${receiverPort}
auth: {type: none}
mode: ${mode}
store: {path: ${JSON.stringify(db)}}
prometheus: {url: ${prom.url}}
http_allowlist: [${demoHost}]
analysis:
  window: 15m
  llm: {url: '${llmUrl}/v1', model: fake-llm, timeout: 5s, retries: 1}
runbooks:
  - name: restart-demo-service
    match: ['alertname="AnomalousSignal"', 'signal=~"latency|errors"']
    label_allowlist: {service: [checkout, catalog]}
    confirm: {score_query: 'max(max_over_time(anomaly_score{model="ensemble",service={{ labels.service }},signal={{ labels.signal }}}[30s]))', min_score: 1}
    steps:
      - {type: http, url: 'http://${demoHost}/admin/restart?service={{ labels.service }}', timeout: 5s}
      - {type: notify, kind: webhook, url: {env: E2E_NOTIFY_URL}}
    annotations: {next_steps: 'If it comes back, roll back the last deploy.'}
`;
}

async function startReceiver(mode: 'live' | 'dry_run', db: string): Promise<ReceiverDaemon> {
  const r = new ReceiverDaemon(parseReceiverConfig(receiverConfig(mode, db), 'loop.yml'), silentLogger());
  await r.start();
  return r;
}

type Episode = {
  id: number;
  status: string;
  resolve_kind: string | null;
  time_to_resolve_seconds: number | null;
  labels: Record<string, string>;
  starts_at: string;
};
async function episodes(): Promise<Episode[]> {
  return (await axios.get(`http://127.0.0.1:${receiverPort}/api/v1/episodes`)).data.episodes as Episode[];
}

beforeAll(async () => {
  // A chat endpoint in the OpenAI format (it records requests, answers like a model) and a notify target.
  llm = await startTarget(
    0,
    JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'Latency rose first at checkout; the restart cleared it.' } }] }),
  );
  llmUrl = llm.url;
  notified = await startTarget();
  process.env.E2E_NOTIFY_URL = `${notified.url}/hook`;
  const demoHost = `127.0.0.1:${await freePort()}`;
  receiverPort = await freePort();
  const exporterPort = await freePort();
  am = await startAlertmanager(`route:
  receiver: remediation
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: remediation
    webhook_configs:
      - url: http://127.0.0.1:${receiverPort}/webhook/alertmanager
        send_resolved: true
`);
  const rules = join(dir, 'rules.yml');
  writeFileSync(rules, RULES);
  // 12 minutes of the demo service's history backfilled, ending where the live service starts
  // (as the demo does): the models are warm at the first fit, not after minutes of scraping.
  const liveFrom = Date.now() / 1000 + 4;
  const history = demoHistory({
    fromSeconds: liveFrom - 12 * 60,
    toSeconds: liveFrom,
    stepSeconds: 1,
    ratePerService: 20,
    targetLabels: { job: 'demo', instance: demoHost },
    seed: 3,
  });
  prom = await startPrometheus({
    scrapeInterval: '1s',
    ruleFiles: [rules],
    alertmanager: am.url.replace('http://', ''),
    scrapeConfigs: scrapeJob('demo', demoHost) + scrapeJob('anomaly-exporter', `127.0.0.1:${exporterPort}`, '    honor_labels: true\n'),
    prepareDataDir: (dataDir) => backfill(dataDir, history),
  });
  await new Promise((r) => setTimeout(r, Math.max(0, liveFrom * 1000 - Date.now())));
  demo = await startDemoService({ listen: demoHost, ratePerService: 20, seed: 11 });
  const w = '[10s]';
  exporter = new ExporterDaemon(
    parseConfig(
      `reader:
  url: ${prom.url}
  group_by: [service]
  signals:
    latency: {query: 'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket${w})))', direction: above, min_deviation: 0.05}
    traffic: {query: 'sum by (service) (rate(http_requests_total${w}))', min_relative_deviation: 0.2}
scheduler: {step: 1s, infer_every: 2s, fit_every: 5m, fit_window: 10m}
server: {listen: "127.0.0.1:${exporterPort}"}
`,
      'loop.yml',
    ),
    { logger: silentLogger(), version: 'e2e' },
  );
  await exporter.start();
  receiver = await startReceiver('live', join(dir, 'live.db'));
  await waitFor('warm models', async () => (await prom.query('count(anomaly_expected_value)'))[0]?.value[1] === '4', 120_000, 1000);
  // A few live samples after the history.
  await new Promise((r) => setTimeout(r, 5_000));
});

afterAll(async () => {
  await receiver?.stop();
  await exporter?.stop();
  await prom?.stop();
  await am?.stop();
  await demo?.stop();
  await llm?.stop();
  await notified?.stop();
});

describe('the remediation loop on real Prometheus and Alertmanager', () => {
  it('live: the alert reaches the receiver, the runbook restarts the service, the resolve closes the episode', async () => {
    const faultAt = Date.now();
    await axios.post(`${demo.url}/faults`, { service: 'checkout', type: 'latency', magnitude: 0.3 });
    const [ep] = await waitFor(
      'an episode for checkout latency',
      async () => {
        const e = (await episodes()).filter((x) => x.labels.service === 'checkout' && x.labels.signal === 'latency');
        return e.length ? e : undefined;
      },
      60_000,
      500,
    );
    const detail = await waitFor(
      'the action to finish',
      async () => {
        const d = (await axios.get(`http://127.0.0.1:${receiverPort}/api/v1/episodes/${ep.id}`)).data as {
          decisions: { decision: string; reason: string }[];
          actions: { outcome: string; detail: string }[];
        };
        return d.actions[0]?.outcome && d.actions[0].outcome !== 'running' ? d : undefined;
      },
      20_000,
      250,
    );
    expect(detail.decisions[0]).toMatchObject({ decision: 'executed' });
    expect(detail.actions[0]).toMatchObject({ outcome: 'succeeded' });
    expect(detail.actions[0].detail).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/admin\/restart → 200/);
    // The restart cleared the fault in the demo service.
    expect((await axios.get(`${demo.url}/faults`)).data.faults).toEqual([]);
    const resolved = await waitFor(
      'the resolved notification to close the episode',
      async () => {
        const e = (await episodes()).find((x) => x.id === ep.id);
        return e?.status === 'resolved' ? e : undefined;
      },
      90_000,
      500,
    );
    expect(resolved.resolve_kind).toBe('recovered');
    expect(resolved.time_to_resolve_seconds).toBeGreaterThan(0);
    const metrics = (await axios.get(`http://127.0.0.1:${receiverPort}/metrics`, { responseType: 'text' })).data as string;
    expect(metrics).toMatch(/remediation_time_to_action_seconds_count\{runbook="restart-demo-service"\} 1/);
    expect(metrics).toMatch(/remediation_time_to_resolve_seconds_count\{kind="recovered"\} 1/);
    expect(metrics).toMatch(/remediation_actions_total\{runbook="restart-demo-service"\} 1/);
    // After a whole episode every family has samples; the exposition must still pass promtool,
    // process and Node.js metrics included (common/process-metrics.ts).
    expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
    expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    const check = promtoolCheckMetrics(metrics);
    expect(check.output).toBe('');
    expect(check.ok).toBe(true);
    process.stdout.write(`loop: fault → resolved ${((Date.now() - faultAt) / 1000).toFixed(1)} s\n`);

    // The incident analysis, read from the real Prometheus: latency first, the exporter's pattern,
    // the action, the recovery, the runbook's next step; and the model's narrative beside it.
    const a = (await axios.get(`http://127.0.0.1:${receiverPort}/api/v1/episodes/${ep.id}/analysis?wait=1`)).data;
    expect(a.first_signal).toBe('latency');
    expect(a.signals[0]).toMatchObject({ signal: 'latency' });
    expect(a.signals[0].peak).toBeGreaterThan(a.signals[0].baseline + 0.2);
    expect(a.pattern).toBe('slow_dependency');
    expect(a.recovered).toBe(true);
    expect(a.remediation.actions[0]).toMatchObject({ runbook: 'restart-demo-service', outcome: 'succeeded' });
    expect(a.summary).toMatch(
      /^checkout: latency moved first .* Pattern: slow_dependency\..* Runbook restart-demo-service ran on checkout [\d.]+ m?s after the alert started: succeeded\. Recovered: the alert resolved [\d.]+ (?:m?s|min) after it started\.$/,
    );
    expect(a.next_steps[0]).toBe('If it comes back, roll back the last deploy.');
    expect(a.narrative).toMatchObject({ status: 'ok', model: 'fake-llm', text: 'Latency rose first at checkout; the restart cleared it.' });
    const asked = JSON.parse(llm.requests[llm.requests.length - 1].body.toString());
    expect(asked.model).toBe('fake-llm');
    expect(JSON.parse(asked.messages[1].content).first_signal).toBe('latency');
    const page = (await axios.get(`http://127.0.0.1:${receiverPort}/episodes/${ep.id}`)).data as string;
    expect(page).toContain('latency moved first');
    expect(page).toContain('Latency rose first at checkout; the restart cleared it.');
    // The notify step sent the analysis as it was then, with the alert.
    const sent = JSON.parse(notified.requests[0].body.toString());
    expect(sent.alert.labels).toMatchObject({ service: 'checkout', signal: 'latency' });
    expect(sent.analysis.first_signal).toBe('latency');
    expect(sent.analysis.summary).toMatch(/^checkout: latency moved first/);
  });

  it('dry_run: the decision is recorded and the fault stays', async () => {
    await receiver!.stop();
    receiver = await startReceiver('dry_run', join(dir, 'dry.db'));
    await axios.post(`${demo.url}/faults`, { service: 'catalog', type: 'latency', magnitude: 0.3 });
    const [ep] = await waitFor(
      'an episode for catalog latency',
      async () => {
        const e = (await episodes()).filter((x) => x.labels.service === 'catalog' && x.labels.signal === 'latency');
        return e.length ? e : undefined;
      },
      60_000,
      500,
    );
    const d = (await axios.get(`http://127.0.0.1:${receiverPort}/api/v1/episodes/${ep.id}`)).data as {
      decisions: { decision: string; reason: string }[];
      actions: unknown[];
    };
    expect(d.decisions[0]).toMatchObject({ decision: 'dry_run', reason: 'dry run: would run runbook restart-demo-service on catalog' });
    expect(d.actions).toEqual([]);
    expect((await axios.get(`${demo.url}/faults`)).data.faults).toMatchObject([{ service: 'catalog', type: 'latency' }]);
    await axios.delete(`${demo.url}/faults`);
  });
});
