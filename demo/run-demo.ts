/**
 * npm run demo: the whole loop on this machine. Starts the demo service, Prometheus,
 * Alertmanager, the exporter and the remediation receiver (demo-stack.ts), waits until the models
 * are warm and all is quiet, injects a fault and prints the timeline as each step happens
 * (loop-timeline.ts). Then keeps running with every UI's URL until Ctrl-C, which stops every
 * process it started.
 *
 *   --source NAME   prometheus (default), or victoria-metrics: VictoriaMetrics scrapes and vmalert
 *                   evaluates the rules (Debian's victoria-metrics package)
 *   --fault TYPES   latency (default), errors, traffic_drop, a comma list of them or all: one
 *                   loop per fault, in order, each from a quiet start, on checkout and catalog in turn
 *   --once   run the loops, then stop; exit 0 only if every step of every loop happened
 *   --json   print the timelines as one JSON object on stdout (progress goes to stderr)
 *   --screenshots DIR   after the loop, save a screenshot of each web page there (needs chromium)
 */
import axios from 'axios';
import { DemoStack, startDemoStack } from './demo-stack';
import { FAULT_TYPES, FaultType } from './faults';
import { waitFor } from './local-stack';
import { FAULT_SIGNAL, followFault, LoopFault, metricValue, STEPS, Timeline } from './loop-timeline';

const once = process.argv.includes('--once');
const json = process.argv.includes('--json');
const screenshotsAt = process.argv.indexOf('--screenshots');
const screenshotDir = screenshotsAt > 0 ? process.argv[screenshotsAt + 1] : undefined;
/** Targets with the demo config: fault → score above 1, → remediation action, → resolved. */
export const TARGETS = { detect_seconds: 20, action_seconds: 45, resolve_seconds: 120 };
/** How much of each fault: +300 ms, 30 % errors, half the traffic gone. */
const MAGNITUDE: Record<FaultType, number> = { latency: 0.3, errors: 0.3, traffic_drop: 0.5 };
/** The services the loops take in turn (the demo runbook's label_allowlist). */
const SERVICES = ['checkout', 'catalog'];
/** The demo runbook's cooldown (demo/config/receiver.demo.yml) and a second: a loop on a service it just restarted waits that long. */
const RUNBOOK_COOLDOWN_MS = 61_000;

/** The faults --fault asks for, or the reason it cannot be read. */
export function parseFaults(arg: string | undefined): LoopFault[] | string {
  const names = arg === undefined ? ['latency'] : arg === 'all' ? [...FAULT_TYPES] : arg.split(',').map((x) => x.trim());
  const bad = names.filter((n) => !FAULT_TYPES.includes(n as FaultType));
  if (bad.length || names.length === 0)
    return `--fault: ${bad.join(', ') || 'nothing given'} is not a fault type; use ${FAULT_TYPES.join(', ')}, a comma list or all`;
  return names.map((type, i) => ({ service: SERVICES[i % SERVICES.length], type: type as FaultType, magnitude: MAGNITUDE[type as FaultType] }));
}

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
  // vmalert (behind VictoriaMetrics' -vmalert.proxyURL) answers `alerts: null` when none fire.
  const alerts = ((await axios.get(`${urls.prometheus}/api/v1/alerts`, { timeout: 3000 })).data.data.alerts ?? []) as unknown[];
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

/** The receiver's episodes (opened since `since`, an ISO time, when given). */
async function episodes(urls: DemoStack['urls'], since?: string): Promise<{ id: number; labels: Record<string, string> }[]> {
  return (await axios.get(`${urls.receiver}/api/v1/episodes`, { params: since ? { since } : {}, timeout: 3000 })).data.episodes;
}

function summary(t: Timeline): string {
  const f = (v: number | null) => (v === null ? 'did not happen' : `${v.toFixed(1)} s`);
  return [
    `time to detect  ${f(t.detect_seconds)}  (target < ${TARGETS.detect_seconds} s)`,
    `time to act     ${f(t.action_seconds)}  (target < ${TARGETS.action_seconds} s)`,
    `time to recover ${f(t.resolve_seconds)}  (target < ${TARGETS.resolve_seconds} s; fault → alert resolved)`,
  ].join('\n');
}

/** What one fault a demo describes: its service, what and how much. */
function describe(f: LoopFault): string {
  if (f.type === 'latency') return `+${f.magnitude * 1000} ms of latency into ${f.service}`;
  if (f.type === 'errors') return `${f.magnitude * 100} % errors into ${f.service}`;
  return `a ${f.magnitude * 100} % traffic drop into ${f.service}`;
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  const faultAt = process.argv.indexOf('--fault');
  const faults = parseFaults(faultAt > 0 ? process.argv[faultAt + 1] : undefined);
  if (typeof faults === 'string') {
    process.stderr.write(`demo: ${faults}\n`);
    process.exit(2);
  }
  const sourceAt = process.argv.indexOf('--source');
  const source = sourceAt > 0 ? process.argv[sourceAt + 1] : 'prometheus';
  if (source !== 'prometheus' && source !== 'victoria-metrics') {
    process.stderr.write(`demo: --source: ${source ?? 'nothing given'} is not a source; use prometheus or victoria-metrics\n`);
    process.exit(2);
  }
  const started = Date.now();
  say(`anomaly-exporter demo: starting (on ${source})`);
  stack = await startDemoStack((line) => say(`  ${line}`), source);
  const urls = stack.urls;
  say(`  running: ${stack.processes.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  const shots = screenshotDir ? new Screenshots(screenshotDir) : undefined;
  const loops: (Timeline & { other_episodes: number })[] = [];
  const lastActionMs: Record<string, number> = {};
  let episodesBefore = 0;
  for (const [i, fault] of faults.entries()) {
    const since = lastActionMs[fault.service];
    if (since !== undefined && Date.now() - since < RUNBOOK_COOLDOWN_MS) {
      say(`waiting for the runbook's cooldown on ${fault.service}`);
      await new Promise((r) => setTimeout(r, RUNBOOK_COOLDOWN_MS - (Date.now() - since)));
    }
    say(`waiting for warm models and a quiet start (${((Date.now() - started) / 1000).toFixed(0)} s so far)`);
    await waitFor('warm models and no alert', () => quiet(urls), 180_000, 1000);
    // A few more seconds of quiet, so the fault starts from a steady state.
    await new Promise((r) => setTimeout(r, 5000));
    const signal = FAULT_SIGNAL[fault.type];
    const text = String((await axios.get(`${urls.exporter}/metrics`, { responseType: 'text' })).data);
    const before = metricValue(text, 'anomaly_observed_value', { service: fault.service, signal });
    say(
      `\ninjecting ${describe(fault)} (${signal} now ${before === undefined ? '?' : signal === 'latency' ? `${(before * 1000).toFixed(0)} ms at p95` : before.toFixed(2)})`,
    );
    say('   t (s)  step');
    say('     0.0  fault injected (demo service POST /faults)');
    if (i === 0) episodesBefore = (await episodes(urls)).length;
    const timeline = await followFault(urls, fault, {
      timeoutMs: 180_000,
      onStep: (step, seconds) => {
        say(`${seconds.toFixed(1).padStart(8)}  ${STEPS.find(([k]) => k === step)![1]}`);
        // The exporter's page while the incident is on.
        if (step === 'alert_firing' && i === 0) shots?.take(`${urls.exporter}/`, 'exporter.png');
      },
    });
    if (timeline.steps.action_executed !== null) lastActionMs[fault.service] = Date.parse(timeline.fault.started_at) + timeline.steps.action_executed * 1000;
    // False alarms: episodes opened since this fault began other than its own.
    const others = (await episodes(urls, timeline.fault.started_at)).filter((e) => e.id !== timeline.episode_id);
    if (others.length) say(`other episodes (false alarms): ${others.map((e) => `${e.labels.service}/${e.labels.signal}`).join(', ')}`);
    if (timeline.decision) say(`decision: ${timeline.decision}`);
    if (timeline.action) say(`action: ${timeline.action}`);
    say(summary(timeline));
    if (timeline.error) say(`demo: ${timeline.error}`);
    loops.push({ ...timeline, other_episodes: others.length });
  }
  const ok = loops.every((t) => t.ok);
  if (shots) {
    shots.take(`${urls.receiver}/`, 'receiver.png');
    if (loops[0].episode_id !== undefined) shots.take(`${urls.receiver}/episodes/${loops[0].episode_id}`, 'episode.png');
    await shots.finish();
  }
  if (json) {
    const flat = loops.map(({ steps, ...rest }) => ({ ...rest, ...steps }));
    process.stdout.write(`${JSON.stringify({ ok, loops: flat, targets: TARGETS, episodes_before_fault: episodesBefore })}\n`);
  }
  if (once) await shutdown(ok ? 0 : 1);
  const firstEpisode = loops[0].episode_id;
  say(`
Still running. Look around, inject your own faults, Ctrl-C stops everything:
  exporter      ${urls.exporter}/          (signals, bands, incidents; /metrics)
  receiver      ${urls.receiver}/          (episodes, timelines, approvals)${firstEpisode === undefined ? '' : `; the first fault: ${urls.receiver}/episodes/${firstEpisode}`}
  prometheus    ${urls.prometheus}/alerts
  alertmanager  ${urls.alertmanager}/
  demo service  ${urls.demo}/              (faults: curl -X POST ${urls.demo}/faults -H 'Content-Type: application/json' -d '{"service":"catalog","type":"errors","magnitude":0.3,"duration":"60s"}')`);
}

main().catch((err) => {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  void shutdown(1);
});
