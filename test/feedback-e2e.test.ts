/**
 * On-call teaches it, with real parts: the demo service, the exporter (polling Alertmanager's
 * silences), the real Prometheus (the alert rule) and Alertmanager, the receiver and Chromium.
 * 1. An error fault pages: the alert reaches the receiver as an episode.
 * 2. On the episode page, "Not an anomaly" is clicked in Chromium: a marked silence goes to
 *    Alertmanager, and the exporter reads it back.
 * 3. The same fault again does not fire the alert in Prometheus.
 * 4. A fault twice as large does.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { Browser, chromium } from 'playwright-core';
import { silentLogger } from '../common/logger';
import { DemoService, startDemoService } from '../demo/demo-service';
import { parseConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { ReceiverDaemon } from '../receiver/receiver-daemon';
import { parseReceiverConfig } from '../receiver/receiver-config';
import { AlertmanagerClient } from '../common/alertmanager-client';
import { backtestRange } from '../exporter/backtest/backtest-range';
import { fetchMarks } from '../exporter/feedback/silence-poller';
import { createReader } from '../exporter/read/reader-factory';
import { demoHistory } from '../demo/demo-history';
import { AlertmanagerProcess, backfill, freePort, PrometheusProcess, scrapeJob, startAlertmanager, startPrometheus, waitFor } from './stack';

jest.setTimeout(300_000);

const CHROMIUM = '/usr/bin/chromium';
/** Requests a second per service: at 100, a 10 s error ratio of 5 % is within about 0.7 % (one σ). */
const RATE = 100;
let demo: DemoService;
let prom: PrometheusProcess;
let am: AlertmanagerProcess;
let exporter: ExporterDaemon;
let receiver: ReceiverDaemon;
let receiverUrl: string;
let exporterUrl: string;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'ae-feedback-'));

// The shipped rule's shape, windows shrunk for a 1 s scrape.
const RULES = `groups:
  - name: anomaly
    rules:
      - alert: AnomalousSignal
        expr: max by (service, signal) (max_over_time(anomaly_score{model="ensemble"}[10s])) > 1
        labels: {severity: warning, category: anomaly, family: anomaly}
        annotations: {summary: '{{ $labels.service }}: {{ $labels.signal }} is anomalous'}
`;

const firing = async () => (await prom.query('ALERTS{alertname="AnomalousSignal",alertstate="firing",service="checkout",signal="errors"}')).length > 0;

async function fault(magnitude: number, seconds: number): Promise<void> {
  await axios.post(`${demo.url}/faults`, { service: 'checkout', type: 'errors', magnitude, duration: seconds });
}

/**
 * Waits for the fault to be over: its errors out of the 10 s rate for 5 s (the series normal
 * again, so the next fault is a new anomaly, not the same one going on) and the alert resolved.
 */
async function calm(): Promise<void> {
  await waitFor(
    'the errors back to normal and the alert resolved',
    async () => {
      const v = await prom.query('max_over_time(anomaly_observed_value{service="checkout",signal="errors"}[5s])');
      return (v.length === 1 && Number(v[0].value[1]) < 0.012 && !(await firing())) || undefined;
    },
    90_000,
    1000,
  );
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run "apt-get install -y chromium" (as root), or "bash .ci/run", which installs it`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const demoHost = `127.0.0.1:${await freePort()}`;
  const receiverPort = await freePort();
  const exporterPort = await freePort();
  receiverUrl = `http://127.0.0.1:${receiverPort}`;
  exporterUrl = `http://127.0.0.1:${exporterPort}`;
  am = await startAlertmanager(`route:
  receiver: remediation
  group_by: [alertname, service, signal]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: remediation
    webhook_configs:
      - url: ${receiverUrl}/webhook/alertmanager
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
    ratePerService: RATE,
    targetLabels: { job: 'demo', instance: demoHost },
    seed: 7,
  });
  prom = await startPrometheus({
    scrapeInterval: '1s',
    ruleFiles: [rules],
    alertmanager: am.url.replace('http://', ''),
    scrapeConfigs: scrapeJob('demo', demoHost) + scrapeJob('anomaly-exporter', `127.0.0.1:${exporterPort}`, '    honor_labels: true\n'),
    prepareDataDir: (dataDir) => backfill(dataDir, history),
  });
  await new Promise((r) => setTimeout(r, Math.max(0, liveFrom * 1000 - Date.now())));
  demo = await startDemoService({ listen: demoHost, ratePerService: RATE, seed: 5 });
  exporter = new ExporterDaemon(
    parseConfig(
      `reader:
  url: ${prom.url}
  group_by: [service]
  signals:
    errors: {query: 'sum by (service) (rate(http_requests_total{code=~"5.."}[10s])) / sum by (service) (rate(http_requests_total[10s]))', direction: above, min_deviation: 0.01}
scheduler: {step: 1s, infer_every: 1s, fit_every: 10m, fit_window: 10m}
alertmanager: {url: ${am.url}, poll_every: 1s}
server: {listen: "127.0.0.1:${exporterPort}"}
`,
      'feedback.yml',
    ),
    { logger: silentLogger(), version: 'e2e' },
  );
  await exporter.start();
  receiver = new ReceiverDaemon(
    parseReceiverConfig(
      `listen: 127.0.0.1:${receiverPort}
auth: {type: none}
mode: dry_run
store: {path: ${JSON.stringify(join(dir, 'receiver.db'))}}
alertmanager: {url: ${am.url}, silence_for: 1m}
`,
      'receiver.yml',
    ),
    silentLogger(),
  );
  await receiver.start();
  await waitFor(
    'warm models',
    async () => (await prom.query('anomaly_expected_value{service="checkout",signal="errors"}')).length === 1 || undefined,
    120_000,
    1000,
  );
  await new Promise((r) => setTimeout(r, 5_000));
});

afterAll(async () => {
  await browser?.close();
  await receiver?.stop();
  await exporter?.stop();
  await prom?.stop();
  await am?.stop();
  await demo?.stop();
});

describe('on-call teaches the exporter through Alertmanager', () => {
  it('a fault pages; "Not an anomaly" in Chromium; the same fault no longer fires; one twice as large does', async () => {
    // 1. The fault pages: an episode at the receiver.
    await fault(0.05, 20);
    const episode = await waitFor(
      'an episode for checkout errors',
      async () => {
        const list = (await axios.get(`${receiverUrl}/api/v1/episodes`)).data.episodes as { id: number; labels: Record<string, string> }[];
        return list.find((e) => e.labels.service === 'checkout' && e.labels.signal === 'errors');
      },
      60_000,
      500,
    );
    // 2. Not an anomaly, clicked on the episode page.
    const page = await browser.newPage();
    try {
      await page.goto(`${receiverUrl}/episodes/${episode.id}`);
      await page.fill('#not-anomaly-note', 'a load test, expected');
      await page.click('button[data-not-anomaly]');
      await page.waitForSelector('text=Marked not an anomaly', { timeout: 15_000 });
    } finally {
      await page.close();
    }
    const silences = (await axios.get(`${am.url}/api/v2/silences`)).data as { comment: string }[];
    expect(silences.map((s) => s.comment)).toEqual([expect.stringMatching(/^anomaly: false-positive span=.* episode #\d+: a load test, expected$/)]);
    await waitFor(
      'the exporter to read the mark',
      async () => /anomaly_feedback_total\{kind="false_positive"\} 1/.test((await axios.get(`${exporterUrl}/metrics`)).data as string) || undefined,
      15_000,
      500,
    );
    // The mark is visible: on the exporter's page, in the Analyse API's answer, in a range backtest.
    const home = (await axios.get(`${exporterUrl}/`)).data as string;
    expect(home).toContain('Operator feedback');
    expect(home).toMatch(/not an anomaly<\/td><td>[^<]*service=&quot;checkout&quot;/);
    const now = Math.floor(Date.now() / 1000);
    const analysis = (
      await axios.post(`${exporterUrl}/api/v1/analyze`, {
        signal: 'errors',
        from: new Date((now - 300) * 1000).toISOString(),
        to: new Date(now * 1000).toISOString(),
      })
    ).data as string;
    const checkout = analysis
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; labels?: Record<string, string>; feedback?: { kind: string }[] })
      .find((m) => m.type === 'series' && m.labels?.service === 'checkout');
    expect(checkout?.feedback).toEqual([expect.objectContaining({ kind: 'false_positive' })]);
    const out = mkdtempSync(join(tmpdir(), 'ae-feedback-bt-'));
    const marks = await fetchMarks(new AlertmanagerClient({ url: am.url, timeoutMs: 5000 }));
    const { results } = await backtestRange(
      exporter.config,
      createReader(exporter.config.reader),
      now - 300,
      now,
      out,
      silentLogger(),
      undefined,
      undefined,
      marks,
    );
    expect(results.find((r) => r.input.includes('checkout'))?.feedback).toEqual([expect.objectContaining({ kind: 'false_positive' })]);
    await calm();

    // 3. The same fault again: scored, but never above 1, so the alert does not fire.
    await fault(0.05, 20);
    let fired = false;
    let peak = 0;
    const until = Date.now() + 25_000;
    while (Date.now() < until) {
      fired ||= await firing();
      const s = await prom.query('max(max_over_time(anomaly_score{model="ensemble",service="checkout",signal="errors"}[5s]))');
      peak = Math.max(peak, Number(s[0]?.value[1] ?? 0));
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(fired).toBe(false);
    expect(peak).toBeLessThanOrEqual(1);
    const observed = await prom.query('max_over_time(anomaly_observed_value{service="checkout",signal="errors"}[40s])');
    expect(Number(observed[0].value[1])).toBeGreaterThan(0.03); // the fault was there
    await calm();

    // 4. Twice as large: it fires.
    await fault(0.1, 20);
    await waitFor('the alert for a fault twice as large', async () => (await firing()) || undefined, 40_000, 1000);
  });
});
