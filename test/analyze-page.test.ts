/**
 * The exporter's Analyse page in Chromium against a real Prometheus holding three hours of
 * backfilled history (one series with a spike): a configured signal over a range shows each
 * series with its band, its score and the flagged points; the CSV download is exactly what
 * `backtest --from --to` writes for the same range; typed PromQL works and a broken one is
 * refused with the position; the API refuses bad requests with reasons.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { Browser, chromium, Page } from 'playwright-core';
import { silentLogger } from '../common/logger';
import { loadConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { backfill, PrometheusProcess, startPrometheus } from './stack';
import { requireBuiltCli, CLI } from './doubles/cli-daemon';

jest.setTimeout(240_000);

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', 'artifacts', 'screenshots');
const STEP = 10;
const END = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
const START = END - 3 * 3600;
const SPIKE = END - 30 * 60;
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

let prom: PrometheusProcess;
let browser: Browser;
let exporter: ExporterDaemon;
let url: string;
let configFile: string;

/** A deterministic wiggle; series b jumps by 0.4 s for a minute 30 minutes before the end. */
function value(series: 'a' | 'b', t: number): number {
  const i = (t - START) / STEP;
  const base = (series === 'a' ? 0.05 : 0.08) + 0.004 * Math.sin(i / 23) + 0.002 * Math.sin(i * 1.7);
  return series === 'b' && t >= SPIKE && t < SPIKE + 60 ? base + 0.4 : base;
}

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1300, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

async function analyse(page: Page, from: number, to: number): Promise<void> {
  await page.fill('input[name=from]', iso(from).slice(0, 16));
  await page.fill('input[name=to]', iso(to).slice(0, 16));
  await page.click('#analyze-run');
  await page.waitForSelector('#analyze-results[data-done="1"]', { state: 'attached', timeout: 120_000 });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run "apt-get install -y chromium" (as root), or "bash .ci/run", which installs it`);
  requireBuiltCli();
  mkdirSync(SHOTS, { recursive: true });
  prom = await startPrometheus({
    prepareDataDir: (dataDir) => {
      let om = '# HELP analyze_latency_seconds A backfilled latency.\n# TYPE analyze_latency_seconds gauge\n';
      for (const s of ['a', 'b'] as const) for (let t = START; t <= END; t += STEP) om += `analyze_latency_seconds{series="${s}"} ${value(s, t)} ${t}\n`;
      backfill(dataDir, om);
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'ae-analyze-'));
  configFile = join(dir, 'exporter.yml');
  writeFileSync(
    configFile,
    `reader:
  url: ${prom.url}
  signals:
    latency: {query: analyze_latency_seconds, direction: above, unit: seconds}
scheduler: {step: ${STEP}s, infer_every: 10s, fit_every: 30m, fit_window: 1h}
server: {listen: "127.0.0.1:0"}
`,
  );
  exporter = new ExporterDaemon(loadConfig(configFile), { logger: silentLogger(), version: 'test' });
  const address = await exporter.start();
  url = `http://127.0.0.1:${address.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  await exporter?.stop();
  await prom?.stop();
});

describe('Analyse page', () => {
  it('shows each series of a signal over a range with band, alerting score and flagged points; the spike is flagged', async () => {
    const { page, errors } = await newPage();
    await page.goto(`${url}/analyze`);
    expect(await page.$$eval('select[name=signal] option', (o) => o.map((x) => x.textContent))).toEqual(['latency (seconds)', 'PromQL below']);
    await analyse(page, START, END);
    const rows = await page.$$eval('#analyze-summary tr.analyzed', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r[0])).toEqual(['series="a"', 'series="b"']);
    expect(rows.map((r) => Number(r[1]))).toEqual([(END - START) / STEP + 1, (END - START) / STEP + 1]);
    const [a, b] = rows.map((r) => ({ flagged: Number(r[2]), max: Number(r[3]) }));
    expect(b.flagged).toBeGreaterThan(0);
    expect(b.max).toBeGreaterThan(1);
    expect(b.max).toBeGreaterThan(a.max);
    expect(await page.textContent('#analyze-status')).toMatch(/^2 series scored in [\d.]+ s\.$/);
    // Two drawn charts per series, the value axis in the signal's unit.
    expect(await page.$$eval('[data-analyze][data-drawn="1"] canvas', (c) => c.length)).toBe(4);
    expect(await page.$$eval('[data-analyze="value"]', (d) => d.map((x) => x.getAttribute('data-y-ticks')))).toEqual([
      expect.stringMatching(/^\d+(\.\d+)? ms(\|\d+(\.\d+)? ms)+$/),
      expect.stringMatching(/ ms(\|| |$)/),
    ]);
    // Every y axis is drawn wide enough for its widest tick label, the tick, the gap and the axis label (18 px):
    // neither the ticks nor the label ("score", "value (seconds)") is cut. Times are UTC, 24-hour.
    // Measured in the page, in the axis' font (this file has no DOM types: the script is text).
    const axes = (await page.evaluate(`[...document.querySelectorAll('[data-analyze]')].map((d) => {
      const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = '12px sans-serif';
      const ticks = (d.getAttribute('data-y-ticks') || '').split('|');
      return { kind: d.getAttribute('data-analyze'), size: Number(d.getAttribute('data-y-size')), widest: Math.max(...ticks.map((t) => ctx.measureText(t).width)), x: d.getAttribute('data-x-ticks') || '' };
    })`)) as { kind: string; size: number; widest: number; x: string }[];
    expect(axes.map((a) => a.kind)).toEqual(['value', 'score', 'value', 'score']);
    for (const a of axes) {
      expect(a.size).toBeGreaterThanOrEqual(a.widest + 10 + 5 + 18);
      expect(a.x).toMatch(/^(\d\d:\d\d|\d\d-\d\d)(\|(\d\d:\d\d|\d\d-\d\d))+$/);
    }
    await page.screenshot({ path: join(SHOTS, 'exporter-analyze.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('downloads a CSV with exactly the rows `backtest --from --to` writes for the same range', async () => {
    const { page, errors } = await newPage();
    await page.goto(`${url}/analyze`);
    await page.fill('input[name=from]', iso(START).slice(0, 16));
    await page.fill('input[name=to]', iso(END).slice(0, 16));
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#analyze-csv')]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe('labels,timestamp,value,anomaly_score,expected,lower,upper');
    const out = mkdtempSync(join(tmpdir(), 'ae-analyze-out-'));
    const r = spawnSync(process.execPath, [CLI, 'backtest', '--config', configFile, '--from', iso(START), '--to', iso(END), '--output', out], {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const s of ['a', 'b']) {
      const file = readdirSync(join(out, 'latency')).find((f) => f === `series=${s}.csv`)!;
      const cli = readFileSync(join(out, 'latency', file), 'utf8')
        .trim()
        .split('\n')
        .slice(1);
      const page = csv.filter((l) => l.startsWith(`"{""series"":""${s}""}",`)).map((l) => l.slice(l.indexOf('",') + 2));
      expect(page).toEqual(cli);
    }
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('analyses typed PromQL, and refuses a broken one with its position', async () => {
    const { page, errors } = await newPage();
    await page.goto(`${url}/analyze`);
    await page.selectOption('select[name=signal]', '');
    await page.fill('textarea[name=query]', 'analyze_latency_seconds{series="b"} * 1000');
    await analyse(page, END - 3600, END);
    expect(await page.$$eval('#analyze-summary tr.analyzed', (trs) => trs.length)).toBe(1);
    await page.fill('textarea[name=query]', 'rate(analyze_latency_seconds[5m]');
    await analyse(page, END - 3600, END);
    expect(await page.textContent('#analyze-status')).toMatch(/^Error: query: PromQL syntax error at line 1, column \d+/);
    // A query that matches nothing says so, not "0 series scored".
    await page.fill('textarea[name=query]', 'analyze_latency_seconds{series="nope"}');
    await analyse(page, END - 3600, END);
    expect(await page.textContent('#analyze-status')).toBe('The query matched nothing in this range: no series to score.');
    // The presets fill 24-hour UTC times.
    await page.click('[data-hours="1"]');
    expect(await page.inputValue('input[name=to]')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(errors.filter((e) => !e.includes('400'))).toEqual([]);
    await page.context().close();
  });
});

describe('POST /api/v1/analyze', () => {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    axios.post(`${url}/api/v1/analyze`, body, {
      headers: { 'Content-Type': 'application/json', ...headers },
      validateStatus: () => true,
      responseType: 'text',
    });

  it.each([
    ['an unknown signal', { signal: 'nope', from: iso(START), to: iso(END) }, /no signal "nope"; configured: latency/],
    ['neither signal nor query', { from: iso(START), to: iso(END) }, /give a configured "signal" or a PromQL "query"/],
    ['a bad time', { signal: 'latency', from: 'yesterday', to: iso(END) }, /"from" must be an RFC 3339 time/],
    ['a range under one step', { signal: 'latency', from: iso(END), to: iso(END) }, /at least one step/],
    ['a range over the limit', { signal: 'latency', from: iso(END - 600_000), to: iso(END) }, /at most 50000/],
  ])('refuses %s with 400 and the reason', async (_what, body, reason) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.data as string).error).toMatch(reason);
  });

  it('streams start, series, progress and done as NDJSON; another site cannot start one', async () => {
    const r = await post({ signal: 'latency', from: iso(END - 1800), to: iso(END) });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = (r.data as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual(['start', 'series', 'progress', 'series', 'progress', 'done']);
    expect((await post({ signal: 'latency', from: iso(END - 1800), to: iso(END) }, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    const form = await axios.post(`${url}/api/v1/analyze`, 'signal=latency', { headers: { 'Content-Type': 'text/plain' }, validateStatus: () => true });
    expect(form.status).toBe(415);
  });
});
