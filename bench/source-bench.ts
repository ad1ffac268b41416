/**
 * npm run bench:source: the exporter against a real Prometheus 2.42 holding N series on the wire
 * (issue 15). For each N (BENCH_SOURCE_SERIES, default "1000,10000"): N/3 services with three
 * gauges each (latency, traffic, errors) and BENCH_SOURCE_HOURS (default 24) of 1-minute history
 * plus 40 minutes to score, backfilled with promtool; the exporter (built CLI code, its own
 * process, default models, group_by service) starts on a clock set to the end of the history.
 * Measured: start → every series scored (cold fit), infer cycles, the scheduled refit, /metrics,
 * the longest /healthz answer throughout, peak RSS of both processes, bytes Prometheus sent, and
 * the exporter's split of a read into source time and parse time. One JSON line per N and
 * reader.refit_reads mode (BENCH_SOURCE_REFIT_READS, both by default, one after the other against
 * the same source), and artifacts/bench-source.json. With BENCH_SOURCE_SHARDS=K, one line per
 * replica's share instead (see SHARDS): the per-replica figures when the source holds all N.
 *
 * Targets at 10,000 series on this machine (issue 15): cold fit and refit < 30 s, infer < 1 s,
 * exporter peak RSS < 1 GiB, /healthz never slower than 1 s.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, PrometheusProcess, requireBinary, startPrometheus } from '../demo/local-stack';
import { groupShard } from '../exporter/shard/shard';
import { Prng } from '../models';

const STEP = 60;
const SIZES = (process.env.BENCH_SOURCE_SERIES ?? '1000,10000').split(',').map(Number);
const HOURS = Number(process.env.BENCH_SOURCE_HOURS ?? 24);
/** Infer cycles to watch after the refit. */
const INFER_CYCLES = Number(process.env.BENCH_SOURCE_CYCLES ?? 3);
/**
 * BENCH_SOURCE_SHARDS=K simulates a fleet of K replicas: the source holds all N series, and the
 * first BENCH_SOURCE_SHARD_RUNS (default K) shares are run one after another, each its own
 * exporter with `sharding: {index, count: K}` (cold fit and infer cycles; no scheduled refit).
 */
const SHARDS = Number(process.env.BENCH_SOURCE_SHARDS ?? 1);
const SHARD_RUNS = Number(process.env.BENCH_SOURCE_SHARD_RUNS ?? SHARDS);
/**
 * reader.refit_reads of each exporter run against the same source, side by side (default both:
 * the kept window, whose refit reads only new samples, and the whole window read again).
 * Shard runs use the first.
 */
const REFIT_READS = (process.env.BENCH_SOURCE_REFIT_READS ?? 'new_samples,fit_window').split(',');
/**
 * BENCH_SOURCE_CONFIG: a YAML file of further top-level sections (models, ensemble) for every
 * exporter run, to measure a candidate default on the wire, as BENCH_DETECT_CONFIG judges it.
 */
const EXTRA_CONFIG = process.env.BENCH_SOURCE_CONFIG ? readFileSync(process.env.BENCH_SOURCE_CONFIG, 'utf8') : '';
const SIGNALS = { latency: 'bench_latency_seconds', traffic: 'bench_requests_per_second', errors: 'bench_error_ratio' } as const;

const log = (msg: string) => process.stderr.write(`[bench:source ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Writes the OpenMetrics history to a file line by line (a 10,000-series day is 700 MB of text) and backfills it. */
function backfill(dataDir: string, services: number, from: number, to: number): void {
  const promtool = requireBinary('promtool', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'ae-bench-om-'));
  const file = join(dir, 'data.om');
  const fd = openSync(file, 'w');
  const rng = new Prng(7);
  try {
    const levels = Array.from({ length: services }, () => [0.02 + rng.next() * 0.2, 5 + rng.next() * 100, 0.001 + rng.next() * 0.02]);
    const names = Object.values(SIGNALS);
    for (const [m, name] of names.entries()) {
      writeSync(fd, `# HELP ${name} bench gauge\n# TYPE ${name} gauge\n`);
      for (let s = 0; s < services; s++) {
        const base = levels[s][m];
        let chunk = '';
        for (let t = from, i = 0; t <= to; t += STEP, i++) {
          const daily = 1 + 0.3 * Math.sin((2 * Math.PI * t) / 86400);
          const v = base * daily * (1 + 0.05 * Math.sin(i * 1.7 + s) + 0.03 * Math.cos(i * 0.37 + m));
          chunk += `${name}{service="svc-${s}"} ${v.toPrecision(6)} ${t}\n`;
        }
        writeSync(fd, chunk);
      }
    }
    writeSync(fd, '# EOF\n');
    closeSync(fd);
    execFileSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir], { stdio: 'pipe', maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function get(url: string, timeoutMs = 60_000): Promise<{ status: number; body: string; seconds: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), seconds: (performance.now() - t) / 1000 }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Sum of the samples of one metric name in exposition text (labels ignored, or matching `filter`). */
function metricSum(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    if (filter && !line.includes(filter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Starts a process' peak RSS over (Linux: clear_refs 5 resets VmHWM), so each run reports its own. */
function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not Linux or not allowed: the peak then spans the earlier runs too.
  }
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

interface Cycle {
  atMs: number;
  seconds: number;
  fitted: string[];
  series: number;
  /** CPU seconds the exporter and Prometheus had used when the cycle's log line arrived. */
  cpu: { exporter: number; prometheus: number };
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Backfills N series, then runs the exporter once, or once per shard (BENCH_SOURCE_SHARDS). */
async function benchOne(n: number): Promise<Record<string, unknown>[]> {
  const services = Math.ceil(n / 3);
  // Backfilled blocks must be older than Prometheus' head: the history ends two hours ago, and the
  // exporter's clock starts there.
  const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 2 * 3600;
  const from = end - HOURS * 3600;
  log(`${n} series: writing ${HOURS} h + 40 min of history and backfilling`);
  const t0 = performance.now();
  const prom = await startPrometheus({ prepareDataDir: (dir) => backfill(dir, services, from, end + 40 * 60), scrapeInterval: '15s' });
  const backfillSeconds = (performance.now() - t0) / 1000;
  log(`backfilled in ${backfillSeconds.toFixed(0)} s`);
  const base = {
    series: n,
    history_hours: HOURS,
    backfill_seconds: Number(backfillSeconds.toFixed(1)),
    ...(EXTRA_CONFIG ? { extra_config: EXTRA_CONFIG.trim() } : {}),
  };
  try {
    if (SHARDS <= 1) {
      const out: Record<string, unknown>[] = [];
      for (const mode of REFIT_READS) {
        const r = { ...base, refit_reads: mode, ...(await runExporter(prom, end, n, undefined, mode)) };
        log(JSON.stringify(r));
        out.push(r);
      }
      return out;
    }
    // The simulation of a fleet: each replica's share, one after another, against the one source.
    const out: Record<string, unknown>[] = [];
    for (let index = 0; index < Math.min(SHARDS, SHARD_RUNS); index++) {
      const owned = Array.from({ length: services }, (_, k) => k).filter((k) => groupShard({ service: `svc-${k}` }, ['service'], SHARDS) === index).length;
      const r = await runExporter(prom, end, owned * 3, { index, count: SHARDS }, REFIT_READS[0]);
      out.push({ ...base, shard: `${index}/${SHARDS}`, shard_series: owned * 3, ...r });
      log(`shard ${index}/${SHARDS}: ${JSON.stringify(r)}`);
    }
    return out;
  } finally {
    await prom.stop();
  }
}

/** One exporter process against the source until its `expected` series are scored, refitted (unsharded) and inferred. */
async function runExporter(
  prom: PrometheusProcess,
  end: number,
  expected: number,
  shard: { index: number; count: number } | undefined,
  refitReads: string,
): Promise<Record<string, unknown>> {
  resetPeakRss(prom.pid);
  const dir = mkdtempSync(join(tmpdir(), 'ae-bench-source-'));
  const port = await freePort();
  const config = join(dir, 'exporter.yml');
  const bytesBefore = metricSum((await get(`${prom.url}/metrics`)).body, 'prometheus_http_response_size_bytes_sum', 'query_range');
  writeFileSync(
    config,
    `reader:
  url: ${prom.url}
  timeout: 60s
  refit_reads: ${refitReads}
  group_by: [service]
  signals:
${Object.entries(SIGNALS)
  .map(([s, q]) => `    ${s}: {query: ${q}}`)
  .join('\n')}
scheduler: {step: 1m, infer_every: 1m, fit_window: ${HOURS}h, fit_every: ${shard ? '1h' : '3m'}}
server: {listen: "127.0.0.1:${port}"}
logging: {level: debug}
${shard ? `sharding: {index: ${shard.index}, count: ${shard.count}}\n` : ''}${EXTRA_CONFIG}`,
  );
  log(`starting the exporter${shard ? ` as shard ${shard.index}/${shard.count}` : ''}`);
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', join(__dirname, 'source-exporter.js'), config, String(end * 1000)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const cycles: Cycle[] = [];
  let errors = '';
  let rest = '';
  child.stderr!.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) {
        errors += line + '\n';
        continue;
      }
      const e = JSON.parse(line) as { message: string; duration_seconds?: number; fitted?: string[]; series?: number };
      const cpu = { exporter: cpuSeconds(child.pid!), prometheus: cpuSeconds(prom.pid) };
      if (e.message === 'cycle done') cycles.push({ atMs: Date.now(), seconds: e.duration_seconds ?? NaN, fitted: e.fitted ?? [], series: e.series ?? 0, cpu });
      if (e.message === 'cycle cut by its timeout; in-flight queries aborted') cycles.push({ atMs: Date.now(), seconds: NaN, fitted: ['CUT'], series: 0, cpu });
    }
  });
  // /healthz every 200 ms from start to end: the longest answer is the worst stall.
  let healthzMax = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const r = await get(`${url}/healthz`, 60_000).catch(() => undefined);
      if (r && r.status === 200) healthzMax = Math.max(healthzMax, r.seconds);
      await new Promise((res) => setTimeout(res, 200));
    }
  })();
  try {
    let coldFitSeconds = NaN;
    const cpuAtStart = { exporter: 0, prometheus: cpuSeconds(prom.pid) };
    let coldCpu = { exporter: NaN, prometheus: NaN };
    const deadline = Date.now() + 20 * 60_000;
    while (Date.now() < deadline) {
      const m = await get(`${url}/metrics`).catch(() => undefined);
      if (m && metricSum(m.body, 'anomaly_exporter_series') >= expected) {
        coldFitSeconds = (Date.now() - started) / 1000;
        coldCpu = { exporter: cpuSeconds(child.pid!), prometheus: cpuSeconds(prom.pid) - cpuAtStart.prometheus };
        break;
      }
      if (child.exitCode !== null) throw new Error(`exporter exited ${child.exitCode}: ${errors.slice(-500)}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    const waitRefit = !shard;
    log(`every series scored after ${coldFitSeconds.toFixed(1)} s; waiting for ${waitRefit ? 'the refit and ' : ''}${INFER_CYCLES} infer cycles`);
    const scoredAt = Date.now();
    // The cycles after the cold fit's: the series gauges are set signal by signal, and /metrics
    // answers while the cycle still runs, so the cold fit's own "cycle done" can come after them.
    const coldFitDone = () => cycles.findIndex((c) => c.fitted.length === 3);
    const afterColdFit = () => cycles.slice(coldFitDone() + 1).filter((c) => c.atMs > scoredAt);
    const enough = () => {
      if (coldFitDone() < 0) return false;
      const after = afterColdFit();
      const refit = waitRefit ? after.findIndex((c) => c.fitted.length === 3) : -1;
      if (waitRefit && refit < 0) return false;
      return after.slice(refit + 1).filter((c) => c.fitted.length === 0).length >= INFER_CYCLES;
    };
    while (!enough() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 1000));
    const metricsTimes: number[] = [];
    let metricsBytes = 0;
    for (let i = 0; i < 3; i++) {
      const m = await get(`${url}/metrics`);
      metricsTimes.push(m.seconds);
      metricsBytes = m.body.length;
    }
    const self = (await get(`${url}/metrics`)).body;
    const promSelf = (await get(`${prom.url}/metrics`)).body;
    const after = afterColdFit();
    const refitAt = after.findIndex((c) => c.fitted.length === 3);
    const refit = after[refitAt];
    // The refit's CPU: from the cycle before it to its own log line.
    const beforeRefit = refitAt > 0 ? after[refitAt - 1] : cycles[cycles.indexOf(refit) - 1];
    const refitCpu =
      refit && beforeRefit
        ? { exporter: refit.cpu.exporter - beforeRefit.cpu.exporter, prometheus: refit.cpu.prometheus - beforeRefit.cpu.prometheus }
        : undefined;
    const infer = after.filter((c) => c.fitted.length === 0 && Number.isFinite(c.seconds)).map((c) => c.seconds);
    return {
      cold_fit_seconds: Number(coldFitSeconds.toFixed(1)),
      cycles_cut: cycles.filter((c) => c.fitted[0] === 'CUT').length,
      refit_seconds: refit ? Number(refit.seconds.toFixed(2)) : null,
      // CPU seconds on 2 cores: a wall time near half the sum is a CPU-bound phase.
      cold_fit_cpu_seconds: { exporter: Number(coldCpu.exporter.toFixed(1)), prometheus: Number(coldCpu.prometheus.toFixed(1)) },
      refit_cpu_seconds: refitCpu ? { exporter: Number(refitCpu.exporter.toFixed(1)), prometheus: Number(refitCpu.prometheus.toFixed(1)) } : null,
      infer_median_seconds: Number(median(infer).toFixed(3)),
      infer_cycles: infer.map((x) => Number(x.toFixed(3))),
      metrics_median_seconds: Number(median(metricsTimes).toFixed(3)),
      metrics_bytes: metricsBytes,
      healthz_max_seconds: Number(healthzMax.toFixed(3)),
      exporter_peak_rss_mb: peakRssMb(child.pid!),
      prometheus_peak_rss_mb: peakRssMb(prom.pid),
      bytes_read_mb: Number(((metricSum(promSelf, 'prometheus_http_response_size_bytes_sum', 'query_range') - bytesBefore) / 1048576).toFixed(1)),
      source_seconds_total: Number(metricSum(self, 'anomaly_exporter_query_duration_seconds_sum').toFixed(2)),
      parse_seconds_total: Number(metricSum(self, 'anomaly_exporter_parse_duration_seconds_sum').toFixed(2)),
      cycle_timeouts: metricSum(self, 'anomaly_exporter_cycle_timeouts_total'),
    };
  } finally {
    polling = false;
    await poller;
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    for (const r of await benchOne(n)) {
      results.push(r);
      process.stdout.write(JSON.stringify(r) + '\n');
    }
  }
  mkdirSync(join(__dirname, '..', '..', 'artifacts'), { recursive: true });
  writeFileSync(join(__dirname, '..', '..', 'artifacts', 'bench-source.json'), JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
}

main().catch((err) => {
  process.stderr.write(`bench:source: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
