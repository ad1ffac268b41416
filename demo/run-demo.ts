/**
 * npm run demo: the whole loop on this machine. Starts the demo service, Prometheus,
 * Alertmanager, the exporter and the remediation receiver (demo-stack.ts), waits until the models
 * are warm and all is quiet, injects a fault and prints the timeline as each step happens
 * (loop-timeline.ts). Then keeps running with every UI's URL until Ctrl-C, which stops every
 * process it started. The flags are USAGE's; scripts/demo.sh reads the same text (help and
 * unknown flags) before it installs anything.
 */
import { parseArgs } from 'node:util';
import axios from 'axios';
import { DemoStack, startDemoStack } from './demo-stack';
import { EXTERNAL_FAULTS, FAULT_TYPES, FaultType } from './faults';
import { waitFor } from './local-stack';
import { FAULT_SIGNAL, followFault, formatSignalValue, LoopFault, metricValue, STEPS, Timeline } from './loop-timeline';

export const USAGE = `Usage: npm run demo -- [--fault TYPES] [--source NAME] [--once] [--json] [--screenshots DIR]

The whole loop on this machine: a demo service, Prometheus, Alertmanager, the exporter and the
remediation receiver; waits for warm models and a quiet start, injects a fault and prints each
step (detected, alert firing, action, resolved) as it happens, then keeps running until Ctrl-C.
The first run installs what is missing (Prometheus, Alertmanager: a minute or two).

  --fault TYPES       latency (default), errors, traffic_drop, traffic_surge, a comma list of them,
                      or all (the three a restart fixes): one loop per fault, in order, each from
                      a quiet start; traffic_surge (4x the load for 90 s) is one a restart does
                      not fix: it resolves when the surge passes
  --source NAME       prometheus (default), or victoria-metrics (VictoriaMetrics scrapes and
                      vmalert evaluates the rules)
  --once              run the loops, then stop; exit 0 only if every step of every loop happened
  --json              print the timelines as one JSON object on stdout (progress goes to stderr)
  --screenshots DIR   after the loop, save a screenshot of each web page there (needs chromium)
  --help              print this and exit
`;

/** The flags, as USAGE lists them (a test holds the two together). */
export const DEMO_FLAGS = {
  fault: { type: 'string' },
  source: { type: 'string' },
  once: { type: 'boolean' },
  json: { type: 'boolean' },
  screenshots: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The demo's flags read, or the reason they cannot be (exit 2). */
export function readDemoArgs(argv: string[]): ReturnType<typeof parseArgs<{ options: typeof DEMO_FLAGS }>>['values'] | string {
  try {
    return parseArgs({ args: argv, options: DEMO_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return (err as Error).message;
  }
}

const args = require.main === module ? readDemoArgs(process.argv.slice(2)) : {};
if (typeof args === 'string') {
  process.stderr.write(`demo: ${args}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const once = args.once === true;
const json = args.json === true;
const screenshotDir = args.screenshots;
/** Targets with the demo config: fault → score above 1, → remediation action, → resolved. */
export const TARGETS = { detect_seconds: 20, action_seconds: 45, resolve_seconds: 120 };
/** How much of each fault: +300 ms, 30 % errors, half the traffic gone. */
const MAGNITUDE: Record<FaultType, number> = { latency: 0.3, errors: 0.3, traffic_drop: 0.5, traffic_surge: 4 };
/** What `--fault all` runs: the faults a restart fixes. */
const ALL_FAULTS = FAULT_TYPES.filter((t) => !EXTERNAL_FAULTS.includes(t));
/** A surge lasts this long: the runbook's restart does not end it; it passes on its own. */
const SURGE_SECONDS = 90;
/** The services the loops take in turn (the demo runbook's label_allowlist). */
const SERVICES = ['checkout', 'catalog'];
/** The demo runbook's cooldown (demo/config/receiver.demo.yml) and a second: a loop on a service it just restarted waits that long. */
const RUNBOOK_COOLDOWN_MS = 61_000;

/** The faults --fault asks for, or the reason it cannot be read. */
export function parseFaults(arg: string | undefined): LoopFault[] | string {
  const names = arg === undefined ? ['latency'] : arg === 'all' ? [...ALL_FAULTS] : arg.split(',').map((x) => x.trim());
  const bad = names.filter((n) => !FAULT_TYPES.includes(n as FaultType));
  if (bad.length || names.length === 0)
    return `--fault: ${bad.join(', ') || 'nothing given'} is not a fault type; use ${FAULT_TYPES.join(', ')}, a comma list or all`;
  return names.map((type, i) => ({
    service: SERVICES[i % SERVICES.length],
    type: type as FaultType,
    magnitude: MAGNITUDE[type as FaultType],
    ...(EXTERNAL_FAULTS.includes(type as FaultType) ? { durationSeconds: SURGE_SECONDS } : {}),
  }));
}

// With --json, stdout carries only the JSON; the live timeline goes to stderr.
const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);

let stack: DemoStack | undefined;
async function shutdown(code: number, why?: string): Promise<never> {
  if (why) say(`\n${why}: stopping ${stack ? stack.processes.map((p) => `${p.name} (pid ${p.pid})`).join(', ') : 'the demo'}`);
  await stack?.stop();
  if (why) say('stopped; the temporary files are removed.');
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
  if (f.type === 'traffic_surge') return `${f.magnitude}× the traffic into ${f.service} for ${f.durationSeconds} s (a restart does not fix it)`;
  return `a ${f.magnitude * 100} % traffic drop into ${f.service}`;
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0, 'Ctrl-C'));
  process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
  if (typeof args === 'string') return;
  const faults = parseFaults(args.fault);
  if (typeof faults === 'string') {
    process.stderr.write(`demo: ${faults}\n`);
    process.exit(2);
  }
  const source = args.source ?? 'prometheus';
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
    say(`\ninjecting ${describe(fault)} (${signal} now ${formatSignalValue(before, signal)}${signal === 'latency' ? ' at p95' : ''})`);
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
    say(
      `false alarms: ${others.length}${others.length ? ` (other episodes opened meanwhile: ${others.map((e) => `${e.labels.service}/${e.labels.signal}`).join(', ')})` : " (no episode opened but this fault's own)"}`,
    );
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

if (require.main === module)
  main().catch((err) => {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    void shutdown(1);
  });
