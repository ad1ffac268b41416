/**
 * npm run bench:soak: one replica of the exporter for a long run in simulated time, to show that
 * its memory stays flat. The real pipeline (runOnce, the fit workers, the group forests at full
 * size, the state store) over a synthetic source that answers each query afresh, as Prometheus
 * does, so the process holds only what the exporter holds.
 *
 * The run, at a 1-minute step with the default models and `group_by: [service]`:
 * - the source holds twice BENCH_SOAK_SERIES series (default 10,000); the replica is shard 0 of 2,
 *   so it scores about BENCH_SOAK_SERIES of them;
 * - cold fit on 24 h, then BENCH_SOAK_CYCLES infer cycles (default 600: 10 hours), a refit every
 *   hour (fit_every), the group forests seeded full (512 rows) from the fit windows;
 * - a config reload a third of the way (`models.jump.factor` changes: the jump model refits, the
 *   others are taken over);
 * - a reshard two thirds of the way: the state is saved to a state directory, the replica restarts
 *   as shard 1 of 2 (every series it scored leaves, the other half arrives, fitted cold) from that
 *   directory, as a pod does when the StatefulSet's shards are reassigned.
 *
 * After every cycle: RSS; every 10 cycles, the heap retained after a full GC (heap used plus
 * external: the models' typed arrays). Prints one JSON line with the figures, and writes an HTML
 * report with the plot to artifacts/soak-report.html (BENCH_SOAK_REPORT to change).
 *
 * Targets (issue 28): the last hour's RSS no more than 5 % over the first hour's after warm-up
 * (the hour after the first scheduled refit), and under 512 MiB.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { silentLogger } from '../common/logger';
import { escapeHtml, scriptJson, uplotAssets } from '../common/web';
import { parseConfig } from '../exporter/config/config';
import { ScoringPipeline } from '../exporter/cycle/scoring-pipeline';
import { tuneHeapForCycles } from '../exporter/daemon/heap-tuning';
import { FitPool } from '../exporter/fit/fit-pool';
import { Shard } from '../exporter/shard/shard';
import { StateStore } from '../exporter/state/state-store';
import { envCount } from './env-count';
import { Prng } from '../models';
import { SyntheticReader, SyntheticSeries } from './synthetic-reader';

const STEP = 60;
const HISTORY = 1440;
const SIGNALS = ['latency', 'traffic', 'errors'];
const MiB = 2 ** 20;

interface Sample {
  cycle: number;
  /** Simulated hours since the cold fit. */
  hours: number;
  seconds: number;
  rssMiB: number;
  /** Heap used + external after a full GC (every 10 cycles; null between). */
  retainedMiB: number | null;
  /** The JavaScript heap's committed size, and the memory outside it (typed arrays), after the cycle. */
  heapTotalMiB: number;
  externalMiB: number;
  series: number;
  event: string;
}

function configText(index: number, jumpFactor: number, stateDir: string): string {
  return `reader:
  url: http://unused:9090
  concurrency: 3
  signals:
${SIGNALS.map((s) => `    ${s}: {query: ${s}_q}`).join('\n')}
scheduler: {step: 1m, infer_every: 1m, fit_every: 1h, fit_window: 24h}
models: {seasonal: {}, zscore: {}, pattern: {}, jump: {factor: ${jumpFactor}}, isolation_forest_group: {}}
state: {dir: ${JSON.stringify(stateDir)}}
sharding: {index: ${index}, count: 2}
`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function report(samples: Sample[], summary: Record<string, unknown>): string {
  const { js, css } = uplotAssets();
  const events = samples.filter((s) => s.event).map((s) => ({ hours: s.hours, event: s.event }));
  const data = {
    hours: samples.map((s) => Number(s.hours.toFixed(3))),
    rss: samples.map((s) => Number(s.rssMiB.toFixed(1))),
    retained: samples.map((s) => (s.retainedMiB === null ? null : Number(s.retainedMiB.toFixed(1)))),
    heapTotal: samples.map((s) => Number(s.heapTotalMiB.toFixed(1))),
    external: samples.map((s) => Number(s.externalMiB.toFixed(1))),
    seconds: samples.map((s) => Number(s.seconds.toFixed(3))),
    events,
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bench:soak</title>
<style>${css}
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}pre{background:#f6f6f6;padding:.6rem}</style></head>
<body><h1>bench:soak: memory over a long run</h1>
<p>${escapeHtml(String(summary.series))} series scored by one replica, ${escapeHtml(String(summary.cycles))} one-minute cycles in simulated time.
Red: resident memory (RSS) after each cycle. Blue: heap retained after a full GC (every 10 cycles). Green: the JavaScript heap's committed size; orange: memory outside it (typed arrays). Dashed: the 512 MiB target.
Events: ${events.map((e) => `${escapeHtml(e.event)} at ${e.hours.toFixed(1)} h`).join('; ')}.</p>
<div id="mem"></div><div id="sec"></div>
<pre>${escapeHtml(JSON.stringify(summary, null, 1))}</pre>
<script>${js}</script>
<script>
const D = ${scriptJson(data)};
const w = Math.min(1200, document.body.clientWidth - 20);
const marks = (u) => { const ctx = u.ctx; ctx.save(); ctx.strokeStyle = '#999'; ctx.setLineDash([4, 4]);
  for (const e of D.events) { const x = u.valToPos(e.hours, 'x', true); ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    ctx.fillStyle = '#555'; ctx.fillText(e.event, x + 4, u.bbox.top + 12); } ctx.restore(); };
new uPlot({width: w, height: 320, title: 'memory (MiB)', scales: {x: {time: false}}, axes: [{label: 'hours'}, {}],
  series: [{label: 'hours'}, {label: 'RSS', stroke: '#c0392b'}, {label: 'retained heap', stroke: '#2c7be5', spanGaps: true},
    {label: 'JS heap committed', stroke: '#27ae60'}, {label: 'external', stroke: '#e67e22'}, {label: '512 MiB', stroke: '#888', dash: [6, 6]}],
  hooks: {draw: [marks]}}, [D.hours, D.rss, D.retained, D.heapTotal, D.external, D.hours.map(() => 512)], document.getElementById('mem'));
new uPlot({width: w, height: 200, title: 'cycle seconds', scales: {x: {time: false}}, axes: [{label: 'hours'}, {}],
  series: [{label: 'hours'}, {label: 'cycle', stroke: '#555'}], hooks: {draw: [marks]}}, [D.hours, D.seconds], document.getElementById('sec'));
</script></body></html>
`;
}

async function main(): Promise<void> {
  const perReplica = envCount('BENCH_SOAK_SERIES', 10000, 3);
  const cycles = envCount('BENCH_SOAK_CYCLES', 600, 120);
  const reportFile = process.env.BENCH_SOAK_REPORT ?? join(__dirname, '..', '..', 'artifacts', 'soak-report.html');
  const t0 = 1_700_000_000 - (1_700_000_000 % STEP);
  const reader = new SyntheticReader(t0, t0 + (HISTORY + cycles) * STEP, STEP);
  // Twice the replica's share: shard 0 of 2 scores about half, shard 1 the other half.
  const services = Math.ceil((2 * perReplica) / SIGNALS.length);
  const rng = new Prng(1);
  for (const signal of SIGNALS) {
    const series: SyntheticSeries[] = [];
    for (let k = 0; k < services; k++) series.push({ labels: { service: `svc-${k}`, job: 'bench' }, level: 1 + rng.next() * 100 });
    reader.set(`${signal}_q`, series);
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'ae-soak-state-'));
  const log = silentLogger();
  const pool = new FitPool(envCount('BENCH_FIT_THREADS', availableParallelism(), 0));
  const never = new AbortController().signal;
  const at = (i: number) => new Date((t0 + (HISTORY - 1 + i) * STEP) * 1000);
  const reloadAt = Math.floor(cycles / 3);
  const reshardAt = Math.floor((2 * cycles) / 3);

  tuneHeapForCycles();
  let config = parseConfig(configText(0, 1.75, stateDir), 'soak.yml');
  let pipeline = new ScoringPipeline(config, reader, log, undefined, pool);
  const samples: Sample[] = [];
  const started = performance.now();
  process.stderr.write(`bench:soak: ${services * SIGNALS.length} series in the source, shard 0 of 2, ${cycles} cycles\n`);
  for (let i = 0; i <= cycles; i++) {
    let event = i === 0 ? 'cold fit' : '';
    if (i === reloadAt) {
      config = parseConfig(configText(0, 1.8, stateDir), 'soak.yml');
      pipeline = new ScoringPipeline(config, reader, log, undefined, pool, pipeline);
      event = 'reload';
    }
    if (i === reshardAt) {
      // As a pod stopping and starting with another shard: save, then restore from the directory.
      await pipeline.groupFitsSettled();
      const before = new StateStore(stateDir, log, new Shard({ index: 0, count: 2 }, config.reader.group_by));
      for (const s of pipeline.exportState()) await before.save(s);
      const groupsHash = pipeline.groupForestsHash;
      if (groupsHash !== undefined) await before.saveGroups(pipeline.exportGroupForests(), groupsHash);
      config = parseConfig(configText(1, 1.8, stateDir), 'soak.yml');
      pipeline = new ScoringPipeline(config, reader, log, undefined, pool);
      const after = new StateStore(stateDir, log, new Shard({ index: 1, count: 2 }, config.reader.group_by));
      for (const signal of SIGNALS) {
        const { signalHash, detectorHashes } = pipeline.stateHashes(signal);
        const saved = await after.load(signal, signalHash, detectorHashes);
        if (saved) pipeline.restoreState(saved);
      }
      if (pipeline.groupForestsHash !== undefined) pipeline.restoreGroupForests(await after.loadGroups(pipeline.groupForestsHash));
      event = 'reshard';
    }
    const t = performance.now();
    const r = await pipeline.runOnce(at(i), never);
    const seconds = (performance.now() - t) / 1000;
    if (!event && Object.values(r.signals).some((s) => s.fitted)) event = i % 60 === 0 ? '' : 'refit';
    const series = Object.values(r.signals).reduce((a, s) => a + s.series, 0);
    let retainedMiB: number | null = null;
    if (i % 10 === 0) {
      global.gc?.();
      const m = process.memoryUsage();
      retainedMiB = (m.heapUsed + m.external) / MiB;
    }
    const mem = process.memoryUsage();
    samples.push({
      cycle: i,
      hours: i / 60,
      seconds,
      rssMiB: mem.rss / MiB,
      retainedMiB,
      heapTotalMiB: mem.heapTotal / MiB,
      externalMiB: mem.external / MiB,
      series,
      event: event === 'refit' ? '' : event,
    });
    if (i % 50 === 0)
      process.stderr.write(
        `bench:soak: cycle ${i}/${cycles} (${((performance.now() - started) / 1000).toFixed(0)} s): ${series} series, RSS ${samples[samples.length - 1].rssMiB.toFixed(0)} MiB${retainedMiB === null ? '' : `, retained ${retainedMiB.toFixed(0)} MiB`}\n`,
      );
  }
  await pool.close();
  rmSync(stateDir, { recursive: true, force: true });

  // The first hour after warm-up: from the first scheduled refit (cycle 60); the last hour: the last 60 cycles.
  const hour = (from: number) => samples.filter((s) => s.cycle >= from && s.cycle < from + 60);
  const first = hour(60);
  const last = hour(cycles - 59);
  const stats = (xs: Sample[]) => ({
    rss_median_mib: Number(median(xs.map((s) => s.rssMiB)).toFixed(1)),
    rss_max_mib: Number(Math.max(...xs.map((s) => s.rssMiB)).toFixed(1)),
    retained_median_mib: Number(median(xs.filter((s) => s.retainedMiB !== null).map((s) => s.retainedMiB!)).toFixed(1)),
  });
  const firstStats = stats(first);
  const lastStats = stats(last);
  const summary = {
    bench: 'soak',
    series: samples[samples.length - 1].series,
    series_before_reshard: samples[reshardAt - 1].series,
    cycles,
    reload_at_cycle: reloadAt,
    reshard_at_cycle: reshardAt,
    wall_seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    infer_seconds_median: Number(median(samples.filter((s) => !s.event && s.cycle % 60 !== 0).map((s) => s.seconds)).toFixed(3)),
    peak_rss_mib: Number(Math.max(...samples.map((s) => s.rssMiB)).toFixed(1)),
    first_hour: firstStats,
    last_hour: lastStats,
    last_over_first_rss: Number((lastStats.rss_median_mib / firstStats.rss_median_mib).toFixed(3)),
    targets: { last_over_first_rss_at_most: 1.05, last_hour_rss_under_mib: 512 },
  };
  mkdirSync(dirname(reportFile), { recursive: true });
  writeFileSync(reportFile, report(samples, summary));
  process.stderr.write(`bench:soak: report written to ${reportFile}\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench:soak failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
