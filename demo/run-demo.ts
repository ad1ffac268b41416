/**
 * npm run demo: the whole loop on this machine. Starts the demo service, Prometheus,
 * Alertmanager, the exporter and the remediation receiver (demo-stack.ts), waits until the models
 * are warm and all is quiet, injects a latency fault and prints the timeline as each step happens
 * (loop-timeline.ts). Then keeps running with every UI's URL until Ctrl-C, which stops every
 * process it started.
 *
 *   --once   one loop, then stop; exit 0 only if every step happened
 *   --json   print the timeline as one JSON object on stdout (progress goes to stderr)
 *   --screenshots DIR   after the loop, save a screenshot of each web page there (needs chromium)
 */
import axios from 'axios';
import { DemoStack, startDemoStack } from './demo-stack';
import { waitFor } from './local-stack';
import { followFault, metricValue, STEPS, Timeline } from './loop-timeline';

const once = process.argv.includes('--once');
const json = process.argv.includes('--json');
const screenshotsAt = process.argv.indexOf('--screenshots');
const screenshotDir = screenshotsAt > 0 ? process.argv[screenshotsAt + 1] : undefined;
const TARGET = { service: 'checkout', signal: 'latency' };
/** Targets with the demo config: fault → score above 1, → remediation action, → resolved. */
export const TARGETS = { detect_seconds: 20, action_seconds: 45, resolve_seconds: 120 };

// With --json, stdout carries only the JSON; the live timeline goes to stderr.
const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);

let stack: DemoStack | undefined;
async function shutdown(code: number): Promise<never> {
  await stack?.stop();
  process.exit(code);
}

/** Warm (every series has a band) and quiet (no alert pending or firing, every score at most 1). */
async function quiet(urls: DemoStack['urls']): Promise<boolean> {
  const text = String((await axios.get(`${urls.exporter}/metrics`, { responseType: 'text', timeout: 3000 })).data);
  const bands = text.split('\n').filter((l) => l.startsWith('anomaly_expected_value{')).length;
  if (bands < 6) return false;
  const alerts = (await axios.get(`${urls.prometheus}/api/v1/alerts`, { timeout: 3000 })).data.data.alerts as unknown[];
  if (alerts.length > 0) return false;
  const max = (
    await axios.get(`${urls.prometheus}/api/v1/query`, { params: { query: 'max(max_over_time(anomaly_score{model="ensemble"}[10s]))' }, timeout: 3000 })
  ).data.data.result[0]?.value[1];
  return max !== undefined && Number(max) <= 1;
}

/** Screenshots of the web pages, as PNGs (for the README): one headless chromium, started on first use. */
class Screenshots {
  private browser?: Promise<import('playwright-core').Browser>;
  private readonly taken: Promise<void>[] = [];

  constructor(private readonly dir: string) {}

  /** Starts a screenshot of `url` into `file`; finish() waits for all of them. */
  take(url: string, file: string): void {
    this.taken.push(
      this.shoot(url, file).catch((err) => {
        say(`screenshot ${file} failed: ${(err as Error).message}`);
      }),
    );
  }

  async finish(): Promise<void> {
    await Promise.all(this.taken);
    if (this.browser) await (await this.browser).close();
  }

  private async shoot(url: string, file: string): Promise<void> {
    // playwright-core is a dev dependency: loaded only for --screenshots.
    this.browser ??= import('playwright-core').then(({ chromium }) =>
      chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] }),
    );
    const { mkdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    mkdirSync(this.dir, { recursive: true });
    const page = await (await this.browser).newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await page.goto(url);
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(this.dir, file), fullPage: true });
      say(`screenshot: ${join(this.dir, file)}`);
    } finally {
      await page.close();
    }
  }
}

async function episodeLabels(urls: DemoStack['urls']): Promise<{ id: number; labels: Record<string, string> }[]> {
  return (await axios.get(`${urls.receiver}/api/v1/episodes`, { timeout: 3000 })).data.episodes;
}

function summary(t: Timeline): string {
  const f = (v: number | null) => (v === null ? 'did not happen' : `${v.toFixed(1)} s`);
  return [
    `time to detect  ${f(t.detect_seconds)}  (target < ${TARGETS.detect_seconds} s)`,
    `time to act     ${f(t.action_seconds)}  (target < ${TARGETS.action_seconds} s)`,
    `time to recover ${f(t.resolve_seconds)}  (target < ${TARGETS.resolve_seconds} s)`,
  ].join('\n');
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  const started = Date.now();
  say('anomaly-exporter demo: starting');
  stack = await startDemoStack((line) => say(`  ${line}`));
  const urls = stack.urls;
  say(`  running: ${stack.processes.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  say(`waiting for warm models and a quiet start (${((Date.now() - started) / 1000).toFixed(0)} s so far)`);
  await waitFor('warm models and no alert', () => quiet(urls), 120_000, 1000);
  // A few more seconds of quiet, so the fault starts from a steady state.
  await new Promise((r) => setTimeout(r, 5000));
  const text = String((await axios.get(`${urls.exporter}/metrics`, { responseType: 'text' })).data);
  const before = metricValue(text, 'anomaly_observed_value', TARGET);
  say(`\ninjecting +300 ms of latency into ${TARGET.service} (p95 latency now ${before === undefined ? '?' : `${(before * 1000).toFixed(0)} ms`})`);
  say('   t (s)  step');
  say('     0.0  fault injected (demo service POST /faults)');
  const episodesBefore = await episodeLabels(urls);
  const shots = screenshotDir ? new Screenshots(screenshotDir) : undefined;
  const timeline = await followFault(urls, TARGET, {
    magnitude: 0.3,
    timeoutMs: 180_000,
    onStep: (step, seconds) => {
      say(`${seconds.toFixed(1).padStart(8)}  ${STEPS.find(([k]) => k === step)![1]}`);
      // The exporter's page while the incident is on.
      if (step === 'alert_firing') shots?.take(`${urls.exporter}/`, 'exporter.png');
    },
  });
  // False alarms: episodes other than the fault's own, before it or during it.
  const others = (await episodeLabels(urls)).filter((e) => !(e.id === timeline.episode_id));
  if (others.length) say(`other episodes (false alarms): ${others.map((e) => `${e.labels.service}/${e.labels.signal}`).join(', ')}`);
  if (timeline.decision) say(`decision: ${timeline.decision}`);
  if (timeline.action) say(`action: ${timeline.action}`);
  say(summary(timeline));
  if (timeline.error) say(`demo: ${timeline.error}`);
  if (shots) {
    shots.take(`${urls.receiver}/`, 'receiver.png');
    if (timeline.episode_id !== undefined) shots.take(`${urls.receiver}/episodes/${timeline.episode_id}`, 'episode.png');
    await shots.finish();
  }
  if (json) {
    const { steps, ...rest } = timeline;
    process.stdout.write(
      `${JSON.stringify({ ...rest, ...steps, targets: TARGETS, episodes_before_fault: episodesBefore.length, other_episodes: others.length })}\n`,
    );
  }
  if (once) await shutdown(timeline.ok ? 0 : 1);
  say(`
Still running. Look around, inject your own faults, Ctrl-C stops everything:
  exporter      ${urls.exporter}/          (signals, bands, incidents; /metrics)
  receiver      ${urls.receiver}/          (episodes, timelines, approvals)${timeline.episode_id === undefined ? '' : `; this fault: ${urls.receiver}/episodes/${timeline.episode_id}`}
  prometheus    ${urls.prometheus}/alerts
  alertmanager  ${urls.alertmanager}/
  demo service  ${urls.demo}/              (faults: curl -X POST ${urls.demo}/faults -H 'Content-Type: application/json' -d '{"service":"catalog","type":"errors","magnitude":0.3,"duration":"60s"}')`);
}

main().catch((err) => {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  void shutdown(1);
});
