/**
 * npm run bench: N synthetic series (1,440-point histories at 1m) through the real pipeline
 * (runOnce with a reader that computes each answer afresh, as a Prometheus would answer) and the
 * real /metrics handler over loopback HTTP.
 * Prints the forest's figures, the cost per series of each model (model-cost.ts), then one JSON
 * line per N. Each N runs in a fresh child process so peak RSS is its own.
 * BENCH_MODELS (a flow-style YAML map, e.g. "{zscore: {}, pattern: {}}") replaces the default
 * models, to see what one model costs.
 *
 * Targets on a 2-core machine: 10,000-series infer cycle < 2 s, full refit < 30 s,
 * /metrics rendered < 0.5 s, RSS < 1 GiB.
 */
import { execFileSync } from 'node:child_process';
import { AddressInfo } from 'node:net';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../common/logger';
import { parseConfig } from '../exporter/config/config';
import { FitPool } from '../exporter/fit/fit-pool';
import { tuneHeapForCycles } from '../exporter/daemon/heap-tuning';
import { renderExporterPage } from '../exporter/publish/web-page';
import { ScoringPipeline } from '../exporter/cycle/scoring-pipeline';
import { createExporterApp } from '../exporter/publish/server';
import { SnapshotPublisher } from '../exporter/publish/snapshot-publisher';
import { IsolationForest, Prng } from '../models';
import { SyntheticReader, SyntheticSeries } from './synthetic-reader';

const STEP = 60;
const HISTORY = 1440;
const SIGNALS = ['latency', 'traffic', 'errors'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function getMetrics(url: string): Promise<{ seconds: number; bytes: number }> {
  const t = performance.now();
  const bytes = await new Promise<number>((resolve, reject) => {
    http
      .get(`${url}/metrics`, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
  return { seconds: (performance.now() - t) / 1000, bytes };
}

async function benchOne(n: number): Promise<Record<string, number | number[] | Record<string, number>>> {
  const t0 = 1_700_000_000 - (1_700_000_000 % STEP);
  // History, then an hour of infer cycles up to the next scheduled refit.
  const total = HISTORY + 61;
  // The source computes each answer afresh, as Prometheus does: the process holds only the exporter.
  const reader = new SyntheticReader(t0, t0 + (total - 1) * STEP, STEP);
  const rng = new Prng(1);
  const perSignal = Math.ceil(n / SIGNALS.length);
  for (const signal of SIGNALS) {
    const series: SyntheticSeries[] = [];
    for (let k = 0; k < perSignal && series.length + SIGNALS.indexOf(signal) * perSignal < n; k++) {
      series.push({ labels: { service: `svc-${k}`, instance: `10.0.${k >> 8}.${k & 255}:8080`, job: 'bench' }, level: 1 + rng.next() * 100 });
    }
    reader.set(`${signal}_q`, series);
  }
  const config = parseConfig(
    `reader:
  url: http://unused:9090
  concurrency: 3
  refit_reads: ${process.env.BENCH_REFIT_READS ?? 'new_samples'}
  signals:
${SIGNALS.map((s) => `    ${s}: {query: ${s}_q}`).join('\n')}
scheduler: {step: 1m, infer_every: 1m, fit_every: 1h, fit_window: 24h}
${process.env.BENCH_MODELS ? `models: ${process.env.BENCH_MODELS}\n` : ''}`,
    'bench.yml',
  );
  const pool = new FitPool(Number(process.env.BENCH_FIT_THREADS ?? availableParallelism()));
  const pipeline = new ScoringPipeline(config, reader, silentLogger(), undefined, pool);
  const never = new AbortController().signal;
  const at = (i: number) => new Date((t0 + i * STEP) * 1000);

  // As the daemon does at start.
  tuneHeapForCycles();
  // BENCH_TRACE=1: where the memory goes, sampled every 250 ms, printed per phase on stderr.
  const trace = process.env.BENCH_TRACE === '1' ? memoryTrace() : undefined;
  global.gc?.();
  // The longest stretch the main thread was busy (what a /healthz request would wait), per phase.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const blocked: Record<string, number> = {};
  const phaseBlocked = (name: string) => {
    blocked[name] = Number((loop.max / 1e9).toFixed(3));
    loop.reset();
  };
  loop.enable();
  let t = performance.now();
  const fit = await pipeline.runOnce(at(HISTORY - 1), never);
  const fitSeconds = (performance.now() - t) / 1000;
  phaseBlocked('cold_fit');
  const rssAfterFit = process.resourceUsage().maxRSS * 1024;
  trace?.phase('cold fit');
  const scored = Object.values(fit.signals).reduce((a, r) => a + r.series, 0);
  if (scored !== n) throw new Error(`expected ${n} series, scored ${scored}`);

  // Every minute up to the next scheduled refit, as the daemon does.
  const inferTimes: number[] = [];
  for (let i = HISTORY; i < HISTORY + 59; i++) {
    t = performance.now();
    const r = await pipeline.runOnce(at(i), never);
    inferTimes.push((performance.now() - t) / 1000);
    if (Object.values(r.signals).some((s) => s.fitted)) throw new Error('an infer cycle refitted');
  }

  phaseBlocked('infer');
  const rssAfterInfer = process.resourceUsage().maxRSS * 1024;
  trace?.phase('infer cycles');
  // The scheduled refit (fit_every after the first): the online pattern model is kept, not refitted.
  t = performance.now();
  const refit = await pipeline.runOnce(at(HISTORY + 59), never);
  const refitSeconds = (performance.now() - t) / 1000;
  if (!Object.values(refit.signals).every((s) => s.fitted)) throw new Error('the scheduled refit did not happen');

  phaseBlocked('refit');
  loop.disable();
  const rssAfterRefit = process.resourceUsage().maxRSS * 1024;
  trace?.phase('refit');
  const registry = new Registry();
  let snapshot = pipeline.snapshot;
  const publisher = new SnapshotPublisher(() => snapshot, '1m');
  const app = createExporterApp(registry, { notReady: () => undefined, snapshotBody: () => publisher.render(), incidents: () => ({}), page: () => '' });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Cold: the first scrape after each new snapshot renders it; warm: later scrapes reuse the text.
  const cold: number[] = [];
  const warm: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    snapshot = { ...pipeline.snapshot };
    const r = await getMetrics(url);
    cold.push(r.seconds);
    bytes = r.bytes;
    warm.push((await getMetrics(url)).seconds);
  }
  server.close();
  trace?.phase('render');
  // The web page (/): 50 groups shown of all of them, with their sparklines.
  const pageTimes: number[] = [];
  let pageBytes = 0;
  for (let i = 0; i < 5; i++) {
    const t1 = performance.now();
    const html = renderExporterPage({
      snapshot: pipeline.snapshot,
      historyOf: (r) => pipeline.historyOf(r),
      description: { signals: SIGNALS, source: 'bench', version: 'bench' },
      groupBy: config.reader.group_by,
      refreshSeconds: 60,
    });
    pageTimes.push((performance.now() - t1) / 1000);
    pageBytes = html.length;
  }
  // What the models and snapshot keep (the pipeline is still referenced below), after a full GC.
  global.gc?.();
  // external, not arrayBuffers: model arrays moved from the fit workers count only in external.
  const retainedHeap = process.memoryUsage().heapUsed + process.memoryUsage().external;
  trace?.stop();
  const fitThreads = pool.size;
  await pool.close();
  return {
    series: n,
    fit_threads: fitThreads,
    points: HISTORY,
    fit_seconds: Number(fitSeconds.toFixed(3)),
    fit_ms_per_series: Number(((fitSeconds * 1000) / n).toFixed(3)),
    refit_seconds: Number(refitSeconds.toFixed(3)),
    infer_seconds: Number(median(inferTimes).toFixed(3)),
    render_seconds: Number(median(cold).toFixed(3)),
    render_cached_seconds: Number(median(warm).toFixed(3)),
    page_seconds: Number(median(pageTimes).toFixed(3)),
    page_bytes: pageBytes,
    metrics_bytes: bytes,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    peak_rss_after_phase_mb: [rssAfterFit, rssAfterInfer, rssAfterRefit].map((b) => Math.round(b / 2 ** 20)),
    retained_bytes: retainedHeap,
    retained_bytes_per_series: Math.round(retainedHeap / n),
    longest_block_seconds: blocked,
  };
}

/** Peak of each process.memoryUsage() field, sampled every 250 ms, printed per phase (MB). */
function memoryTrace(): { phase(name: string): void; stop(): void } {
  let peak: Record<string, number> = {};
  const sample = () => {
    for (const [k, v] of Object.entries(process.memoryUsage())) peak[k] = Math.max(peak[k] ?? 0, Math.round(v / 2 ** 20));
  };
  const timer = setInterval(sample, 250);
  return {
    phase(name) {
      sample();
      process.stderr.write(`bench trace: ${name}: peak MB ${JSON.stringify(peak)}\n`);
      peak = {};
    },
    stop: () => clearInterval(timer),
  };
}

/** Our isolation forest against itself on one 1,440-point, 3-feature series: the per-series cost. */
function forestFigures(): Record<string, number> {
  const rows = 1440;
  const data = new Float64Array(rows * 3);
  const rng = new Prng(3);
  for (let i = 0; i < rows; i++) {
    data[i * 3] = Math.sin(i / 50) + rng.next() * 0.1;
    data[i * 3 + 1] = rng.next();
    data[i * 3 + 2] = rng.next();
  }
  const x = { rows, cols: 3, data };
  const fitScore: number[] = [];
  const point: number[] = [];
  let bytes = 0;
  for (let k = 0; k < 41; k++) {
    const f = new IsolationForest({ trees: 100, sampleSize: 256, seed: k });
    let t = performance.now();
    f.fit(x);
    f.score(x);
    fitScore.push(performance.now() - t);
    t = performance.now();
    for (let r = 0; r < 1000; r++) f.scoreRow(data, (r % rows) * 3);
    point.push(((performance.now() - t) * 1000) / 1000);
    bytes = f.byteSize;
  }
  return { forest_fit_score_1440_ms: Number(median(fitScore).toFixed(2)), forest_point_us: Number(median(point).toFixed(2)), forest_bytes: bytes };
}

/** scikit-learn's IsolationForest on the same shape of data, timed the same way, when Debian's python3-sklearn is there. */
function sklearnFigures(): Record<string, number> | undefined {
  const script = `
import time, numpy as np
from sklearn.ensemble import IsolationForest
rng = np.random.default_rng(3); n = 1440
X = np.column_stack([np.sin(np.arange(n) / 50) + rng.random(n) * 0.1, rng.random(n), rng.random(n)])
ts = []
for k in range(15):
    t = time.perf_counter(); f = IsolationForest(n_estimators=100, max_samples=256, random_state=k).fit(X); f.score_samples(X); ts.append(time.perf_counter() - t)
ts.sort(); print(ts[len(ts) // 2] * 1000)
`;
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
    return { sklearn_fit_score_1440_ms: Number(Number(out.trim()).toFixed(2)) };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === '--forest') {
    process.stdout.write(`${JSON.stringify(forestFigures())}\n`);
    return;
  }
  if (arg) {
    process.stdout.write(`${JSON.stringify(await benchOne(Number(arg)))}\n`);
    return;
  }
  const sizes = (process.env.BENCH_SERIES ?? '1000,10000').split(',').map(Number);
  process.stderr.write(`bench: isolation forest, the cost per model, then ${sizes.join(' and ')} series (each in its own process)\n`);
  const ours = JSON.parse(execFileSync(process.execPath, ['--expose-gc', __filename, '--forest'], { encoding: 'utf8' })) as Record<string, number>;
  const sk = sklearnFigures();
  const ratio = sk
    ? { ratio_to_sklearn: Number((ours.forest_fit_score_1440_ms / sk.sklearn_fit_score_1440_ms).toFixed(3)) }
    : { sklearn: 'python3-sklearn not installed' };
  process.stdout.write(`${JSON.stringify({ ...ours, ...sk, ...ratio })}\n`);
  // The cost model: CPU and bytes per series, per model (docs/scaling.md).
  process.stdout.write(
    execFileSync(process.execPath, ['--expose-gc', join(__dirname, 'model-cost.js')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  for (const n of sizes) {
    process.stderr.write(`bench: ${n} series...\n`);
    process.stdout.write(
      execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', __filename, String(n)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
