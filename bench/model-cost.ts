/**
 * The cost model per series, per model: what each per-series model of the default config adds in
 * CPU to a fit, in CPU to an infer cycle, in retained heap and in saved state. Each model's figure
 * is its marginal cost: the default models against the default models without it (the seasonal
 * profile and the feature streams are shared, so they are their own line). The series are
 * synthetic 1-minute signals with a daily cycle and noise, fitted on 24 h (1,440 points) as the
 * exporter's default `fit_window` does, then scored one new sample per cycle.
 *
 * Each configuration runs ROUNDS times, interleaved; the figures are medians. `all_models` is every
 * per-series model on, `default_models` the default config's. Run by `npm run bench`
 * (pipeline-bench.ts) in a child process of its own, so the heap measured is only the models';
 * prints one JSON line.
 */
import { parseConfig } from '../exporter/config/config';
import { seriesModelConfig } from '../exporter/config/model-config';
import { envCount } from './env-count';
import { Prng, SeriesModel, SeriesModelConfig } from '../models';
import type { DetectorName } from '../models';

const STEP = 60;
const POINTS = 1440;
const CYCLES = 60;
const T0 = 1_700_006_400;

/** Hour-of-week slot (0 = Monday 00:00 UTC) of a time in seconds. */
const slotOf = (t: number) => Math.floor((((t / 3600 + 72) % 168) + 168) % 168);

interface Workload {
  values: Float64Array[];
  next: Float64Array[];
  times: Float64Array;
  slots: Uint8Array;
  nextSlots: Uint8Array[];
}

function workload(series: number, seed: number): Workload {
  const rng = new Prng(seed);
  const times = new Float64Array(POINTS);
  const slots = new Uint8Array(POINTS);
  for (let i = 0; i < POINTS; i++) {
    times[i] = T0 + i * STEP;
    slots[i] = slotOf(times[i]);
  }
  const values: Float64Array[] = [];
  const next: Float64Array[] = [];
  for (let s = 0; s < series; s++) {
    const level = 1 + rng.next() * 100;
    const amp = level * (0.1 + rng.next() * 0.3);
    const noise = level * (0.01 + rng.next() * 0.05);
    const v = new Float64Array(POINTS + CYCLES);
    for (let i = 0; i < v.length; i++) v[i] = level + amp * Math.sin((2 * Math.PI * i) / 1440) + noise * (rng.next() + rng.next() + rng.next() - 1.5);
    values.push(v.subarray(0, POINTS));
    next.push(v.subarray(POINTS));
  }
  const nextSlots = Array.from({ length: CYCLES }, (_, c) => Uint8Array.of(slotOf(T0 + (POINTS + c) * STEP)));
  return { values, next, times, slots, nextSlots };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function heapBytes(): number {
  global.gc?.();
  global.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Cost {
  fitUs: number;
  inferUs: number;
  retainedBytes: number;
  stateBytes: number;
}

/** Fits and scores every series with `config`; CPU per series and the heap the models retain. */
function measure(config: SeriesModelConfig, w: Workload): Cost {
  const before = heapBytes();
  const models: SeriesModel[] = [];
  let t = cpuMs();
  for (const values of w.values) {
    const m = new SeriesModel(config);
    m.fit(values, T0 + POINTS * STEP, config.seasonal ? { times: w.times, slots: w.slots } : undefined);
    models.push(m);
  }
  const fitMs = cpuMs() - t;
  t = cpuMs();
  for (let c = 0; c < CYCLES; c++) for (let s = 0; s < models.length; s++) models[s].score(w.next[s].subarray(c, c + 1), w.nextSlots[c]);
  const inferMs = cpuMs() - t;
  const retained = heapBytes() - before;
  let stateBytes = 0;
  for (let s = 0; s < Math.min(models.length, 50); s++) stateBytes += JSON.stringify(models[s].toJSON()).length;
  const n = models.length;
  return { fitUs: (fitMs * 1000) / n, inferUs: (inferMs * 1000) / n / CYCLES, retainedBytes: retained / n, stateBytes: stateBytes / Math.min(n, 50) };
}

function withoutModel(config: SeriesModelConfig, name: DetectorName): SeriesModelConfig {
  const detectors = { ...config.detectors };
  delete detectors[name];
  return {
    ...config,
    detectors,
    ensembleModels: config.ensembleModels?.filter((m) => m !== name),
    seasonalModels: config.seasonalModels?.filter((m) => m !== name),
  };
}

const ROUNDS = 3;

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Each figure's median over the rounds. */
function medianCost(cs: Cost[]): Cost {
  return {
    fitUs: medianOf(cs.map((c) => c.fitUs)),
    inferUs: medianOf(cs.map((c) => c.inferUs)),
    retainedBytes: medianOf(cs.map((c) => c.retainedBytes)),
    stateBytes: medianOf(cs.map((c) => c.stateBytes)),
  };
}

const minus = (a: Cost, b: Cost): Cost => ({
  fitUs: a.fitUs - b.fitUs,
  inferUs: a.inferUs - b.inferUs,
  retainedBytes: a.retainedBytes - b.retainedBytes,
  stateBytes: a.stateBytes - b.stateBytes,
});

function main(): void {
  const series = envCount('BENCH_COST_SERIES', 1000);
  // Every per-series model, the ones off by default too, so each one's cost is measured.
  const config = parseConfig(
    `reader: {url: "http://127.0.0.1:9", signals: {s: {query: s}}}\nscheduler: {step: 1m}\nmodels: {seasonal: {}, zscore: {}, mad: {}, isolation_forest: {}, pattern: {}, jump: {}}\n`,
    'cost.yml',
  );
  const full = seriesModelConfig(config, config.reader.signals.s);
  const defaults = parseConfig(`reader: {url: "http://127.0.0.1:9", signals: {s: {query: s}}}\nscheduler: {step: 1m}\n`, 'cost.yml');
  const w = workload(series, 11);
  const variants: [string, SeriesModelConfig][] = [
    ['all', full],
    ['defaults', seriesModelConfig(defaults, defaults.reader.signals.s)],
    ...(Object.keys(full.detectors) as DetectorName[]).map((name): [string, SeriesModelConfig] => [name, withoutModel(full, name)]),
    ['seasonal', { ...full, seasonal: undefined, seasonalModels: undefined }],
  ];
  // A warm-up pass, so the first configuration measured does not pay for the JIT.
  for (const [, c] of variants) measure(c, workload(50, 3));
  // Rounds interleave the variants, so a slow moment of the machine falls on all of them.
  const runs = new Map<string, Cost[]>(variants.map(([k]) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`bench: model cost, round ${r + 1} of ${ROUNDS} (${series} series × ${variants.length} configs)\n`);
    for (const [k, c] of variants) runs.get(k)!.push(measure(c, w));
  }
  const all = medianCost(runs.get('all')!);
  const round = (c: Cost) => ({
    fit_us: Math.round(c.fitUs),
    infer_us: Number(c.inferUs.toFixed(2)),
    retained_bytes: Math.round(c.retainedBytes),
    state_bytes: Math.round(c.stateBytes),
  });
  const marginal = Object.fromEntries(variants.filter(([k]) => k !== 'all' && k !== 'defaults').map(([k]) => [k, round(minus(all, medianCost(runs.get(k)!)))]));
  process.stdout.write(
    `${JSON.stringify({
      bench: 'model_cost',
      series,
      points: POINTS,
      rounds: ROUNDS,
      all_models: round(all),
      default_models: round(medianCost(runs.get('defaults')!)),
      marginal,
    })}\n`,
  );
}

main();
