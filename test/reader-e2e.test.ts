/**
 * The reader against the real Prometheus over a backfilled range longer than its 11,000-point
 * limit: range splitting, exact values, and the Accept-Encoding setting seen on the wire.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusReader } from '../exporter/read/prometheus-reader';
import { backfill, freePort, PrometheusProcess, startPrometheus } from './stack';

jest.setTimeout(120_000);

const STEP = 10;
const POINTS = 12_500;
const END = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
const START = END - (POINTS - 1) * STEP;
const valueOf = (series: number, i: number) => series * 1000 + i * 0.5;

let prom: PrometheusProcess;
let proxyUrl: string;
let proxy: http.Server;
const seen: { acceptEncoding?: string; contentEncoding?: string; bytes: number }[] = [];

beforeAll(async () => {
  prom = await startPrometheus({
    prepareDataDir: (dataDir) => {
      let om = '# HELP backfill_value A backfilled gauge.\n# TYPE backfill_value gauge\n';
      for (let s = 0; s < 3; s++) {
        for (let i = 0; i < POINTS; i++) om += `backfill_value{series="s${s}"} ${valueOf(s, i)} ${START + i * STEP}\n`;
      }
      backfill(dataDir, om);
    },
  });
  // A recording pass-through proxy in front of Prometheus, to see what goes over the wire.
  const port = await freePort();
  proxy = http.createServer((req, res) => {
    const upstream = http.request(`${prom.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      const entry = { acceptEncoding: req.headers['accept-encoding'] as string | undefined, contentEncoding: up.headers['content-encoding'], bytes: 0 };
      seen.push(entry);
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.on('data', (d: Buffer) => (entry.bytes += d.length));
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
  proxyUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  proxy?.closeAllConnections();
  proxy?.close();
  await prom?.stop();
});

const reader = (acceptEncoding: string, maxPointsPerQuery = 11_000, url = proxyUrl) =>
  new PrometheusReader({ url, timeoutMs: 30_000, retries: 0, headers: {}, acceptEncoding, maxPointsPerQuery });
const query = { signal: 'backfill', query: 'backfill_value', startSeconds: START, endSeconds: END, stepSeconds: STEP };

describe('reader on a real Prometheus', () => {
  it('refuses an unsplit range over 11,000 points (why the reader splits)', async () => {
    const err = await reader('identity', 20_000)
      .queryRange(query, new AbortController().signal)
      .catch((e) => e);
    expect(err.kind).toBe('promql');
    expect(err.message).toMatch(/11,?000/);
  });

  it('splits a 12,500-point range and returns every backfilled value exactly', async () => {
    seen.length = 0;
    const out = await reader('identity').queryRange(query, new AbortController().signal);
    expect(seen).toHaveLength(2);
    expect(out.map((s) => s.labels.series).sort()).toEqual(['s0', 's1', 's2']);
    for (const s of out) {
      const k = Number(s.labels.series.slice(1));
      expect(s.values.length).toBe(POINTS);
      expect(s.timestamps[0]).toBe(START);
      expect(s.timestamps[POINTS - 1]).toBe(END);
      for (let i = 0; i < POINTS; i += 97) expect(s.values[i]).toBe(valueOf(k, i));
      expect(s.values[POINTS - 1]).toBe(valueOf(k, POINTS - 1));
    }
  });

  it('sends Accept-Encoding as configured: identity by default, gzip when asked, same data', async () => {
    seen.length = 0;
    const plain = await reader('identity').queryRange(query, new AbortController().signal);
    const zipped = await reader('gzip').queryRange(query, new AbortController().signal);
    expect(seen.map((s) => s.acceptEncoding)).toEqual(['identity', 'identity', 'gzip', 'gzip']);
    expect(seen.map((s) => s.contentEncoding)).toEqual([undefined, undefined, 'gzip', 'gzip']);
    expect(seen[2].bytes).toBeLessThan(seen[0].bytes / 3);
    expect(zipped.map((s) => Array.from(s.values.subarray(0, 50)))).toEqual(plain.map((s) => Array.from(s.values.subarray(0, 50))));
  });

  it('backtests every series of a config over a Prometheus range (anomaly-exporter backtest --from --to)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-range-'));
    const config = join(dir, 'c.yml');
    writeFileSync(
      config,
      `reader: {url: "${prom.url}", signals: {backfill: {query: backfill_value}}}\nscheduler: {step: 10s, infer_every: 10s, fit_every: 10m, fit_window: 1h}\n`,
    );
    const from = new Date((END - 1999 * STEP) * 1000).toISOString();
    const to = new Date(END * 1000).toISOString();
    const cli = join(__dirname, '..', 'dist', 'cli', 'main.js');
    const r = spawnSync(process.execPath, [cli, 'backtest', '--config', config, '--from', from, '--to', to, '--output', join(dir, 'out')], {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
      timeout: 90_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/backtest: 3 series, 6000 rows/);
    expect(readdirSync(join(dir, 'out', 'backfill')).sort()).toEqual(['series=s0.csv', 'series=s1.csv', 'series=s2.csv']);
    const lines = readFileSync(join(dir, 'out', 'backfill', 'series=s1.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(2001);
    expect(lines[2000].split(',').slice(0, 2)).toEqual([to.replace(/\.\d+Z$/, '.000Z'), String(valueOf(1, POINTS - 1))]);
  });

  it('backtest warns in the same plain lines as its errors: a refused query is one line naming the signal, no JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-range-'));
    const config = join(dir, 'c.yml');
    writeFileSync(
      config,
      `reader: {url: "${prom.url}", retries: 0, check_promql: false, signals: {good: {query: backfill_value}, bad: {query: 'backfill_value[5m]'}}}\nscheduler: {step: 10s, infer_every: 10s, fit_every: 10m, fit_window: 1h}\n`,
    );
    const from = new Date((END - 500 * STEP) * 1000).toISOString();
    const to = new Date(END * 1000).toISOString();
    const cli = join(__dirname, '..', 'dist', 'cli', 'main.js');
    const r = spawnSync(process.execPath, [cli, 'backtest', '--config', config, '--from', from, '--to', to, '--output', join(dir, 'out')], {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
      timeout: 90_000,
    });
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const l of lines) {
      expect(l).toMatch(/^backtest: (warning|error): /);
      expect(() => JSON.parse(l)).toThrow();
    }
    expect(r.stderr).toMatch(/^backtest: error: signal skipped: its query failed: signal=bad error=".*range vector/m);
    // The good signal is still backtested; the run says it failed.
    expect(r.stdout).toMatch(/backtest: 3 series/);
    expect(r.status).toBe(1);
  });
});
