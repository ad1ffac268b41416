import { detectorContext, detectorOptionsKeys, SeriesModel, SeriesModelConfig } from '../../models';
import { Logger } from '../../common/logger';
import { errorMessage } from '../../common/errors';
import { ExporterConfig } from '../config/config';
import { FitPool } from '../fit/fit-pool';
import { FitJob } from '../fit/fit-protocol';
import { seriesModelConfig } from '../config/model-config';
import { hoursOfWeek } from './local-time';
import { labelKey } from '../read/query-range-response';
import { RawSeries, Reader, ReaderError } from '../read/reader';
import { SelfMetrics } from '../publish/self-metrics';
import { RecentSamples } from '../group/correlation';
import { analyseGroup, groupPublished, PublishedSeries } from '../group/group-analysis';
import { GroupForests } from '../group/group-forests';
import { signalKind, SignalKind } from '../group/incident-rules';
import { EMPTY_SNAPSHOT, SeriesResult, Snapshot } from '../publish/snapshot';
import { SavedSignal, stableHash } from '../state/state-store';
import { HistoryArrays, SeriesHistory } from './series-history';

export interface SignalReport {
  ok: boolean;
  /** Whether this cycle refitted the signal's models. */
  fitted: boolean;
  /** How many series were refitted (all on a scheduled refit, only those warming up otherwise). */
  fittedSeries: number;
  series: number;
  error?: string;
  errorKind?: string;
}

export interface RunReport {
  endSeconds: number;
  durationSeconds: number;
  /** false when every query failed because the source was unreachable or failing. */
  sourceUp: boolean;
  aborted: boolean;
  signals: Record<string, SignalReport>;
}

export interface Pipeline {
  runOnce(now: Date, signal: AbortSignal): Promise<RunReport>;
}

interface SeriesState {
  labels: Record<string, string>;
  /** The labels published with its results (made once: every cycle's result shares them). */
  publicLabels: Readonly<Record<string, string>>;
  model: SeriesModel;
  /** Newest sample already scored (or used in the fit), seconds. */
  lastTs: number;
  lastSeen: number;
  latest?: SeriesResult;
  onset?: number;
  /** Samples scored since the last one with an ensemble score above 1 (Infinity: none yet). */
  sinceFlag: number;
  /** Samples within the correlation window, for per-group correlations. */
  recent: RecentSamples;
  /** The last scored samples with their band and score, for the web page. */
  history: SeriesHistory;
}

interface SignalState {
  name: string;
  query: string;
  modelConfig: SeriesModelConfig;
  series: Map<string, SeriesState>;
  lastFit: number;
  lastFitAttempt: number;
  /** Results of the last successful query, published in the snapshot. */
  published: PublishedSeries[];
}

/** Series per refit batch handed to the fitter. */
const FIT_BATCH = 32;

/**
 * The training values of a series: its finite samples up to the last one already scored (or all
 * but the newest for a new series), so the samples after it are scored by the new fit.
 */
function trainingJob(r: RawSeries, state: SeriesState, key: string, timeZone: string | undefined): { job: FitJob; trainedUntil: number } | undefined {
  const cutoff = Number.isFinite(state.lastTs) ? state.lastTs : (r.timestamps[r.timestamps.length - 2] ?? -Infinity);
  let n = 0;
  let end = 0;
  while (end < r.values.length && r.timestamps[end] <= cutoff) {
    if (Number.isFinite(r.values[end])) n++;
    end++;
  }
  if (n === 0) return undefined;
  const values = new Float64Array(n);
  const times = new Float64Array(n);
  for (let i = 0, o = 0; i < end; i++) {
    if (Number.isFinite(r.values[i])) {
      values[o] = r.values[i];
      times[o++] = r.timestamps[i];
    }
  }
  const job: FitJob = { key, values, keepOnline: state.model.onlineFitted };
  if (timeZone !== undefined) {
    job.times = times;
    job.slots = hoursOfWeek(times, timeZone);
    job.seasonal = state.model.seasonalState;
  }
  return { job, trainedUntil: times[n - 1] };
}

/** One holder at a time, first come first served. */
class Mutex {
  private last: Promise<void> = Promise.resolve();

  async acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const before = this.last;
    this.last = before.then(() => held);
    await before;
    return release;
  }
}

/** Labels the exporter adds; a source label of the same name is kept as exported_<name>. */
const RESERVED_LABELS = ['signal', 'model'];

/**
 * One cycle: for each signal, refit when due (over `fit_window`), otherwise score the samples that
 * arrived since the last cycle; then build a new immutable snapshot. A failing signal never stops
 * the others: its error is reported, its series leave the snapshot, the rest go on.
 */
export class ScoringPipeline implements Pipeline {
  private readonly signals: SignalState[];
  private snap: Snapshot = EMPTY_SNAPSHOT;
  private readonly fitSlot = new Mutex();
  /** Each published result's series history (weak: results of old snapshots go with them). */
  private readonly histories = new WeakMap<SeriesResult, SeriesHistory>();
  private forceFit = false;
  private readonly stepS: number;
  private readonly kinds: Record<string, SignalKind>;
  private readonly groupForests?: GroupForests;
  /** The time zone of the seasonal profile's hours, when it is enabled. */
  private readonly seasonalZone?: string;

  constructor(
    private readonly config: ExporterConfig,
    private readonly reader: Reader,
    private readonly log: Logger,
    private readonly metrics?: SelfMetrics,
    /** Where refits run; by default on this thread. The daemon passes a pool of worker threads. */
    private readonly fitter: Pick<FitPool, 'fit' | 'size'> = new FitPool(0),
  ) {
    this.stepS = config.scheduler.step / 1000;
    this.seasonalZone = config.models.seasonal ? config.scheduler.timezone : undefined;
    const gf = config.models.isolation_forest_group;
    if (gf) {
      const sched = config.scheduler;
      this.groupForests = new GroupForests({
        maxChannels: gf.max_channels,
        trees: gf.trees,
        sampleSize: gf.sample_size,
        seed: gf.seed,
        contamination: gf.contamination,
        calibrationSamples: gf.calibration_samples,
        minSamples: gf.min_samples,
        fitEverySeconds: sched.fit_every / 1000,
        windowRows: Math.ceil(sched.fit_window / sched.step),
        warmupRefitSeconds: Math.min(sched.fit_every, 5 * sched.infer_every) / 1000,
      });
    }
    this.kinds = Object.fromEntries(Object.entries(config.reader.signals).map(([name, sc]) => [name, signalKind(name, sc.kind)]));
    this.signals = Object.entries(config.reader.signals).map(([name, s]) => ({
      name,
      query: s.query,
      modelConfig: seriesModelConfig(config, s),
      series: new Map(),
      lastFit: -Infinity,
      lastFitAttempt: -Infinity,
      published: [],
    }));
  }

  get snapshot(): Snapshot {
    return this.snap;
  }

  /** The recent scored samples of the series a snapshot result belongs to, oldest first. */
  historyOf(result: SeriesResult): HistoryArrays | undefined {
    return this.histories.get(result)?.toArrays();
  }

  /** What each signal's models depend on, for invalidating saved state after a config change. */
  stateHashes(signal: string): { signalHash: string; detectorHashes: Record<string, string> } {
    const s = this.signals.find((x) => x.name === signal);
    if (!s) throw new Error(`no signal ${signal}`);
    const c = s.modelConfig;
    return {
      signalHash: stableHash({ query: s.query, scoring: c.scoring, step: this.stepS, seasonal: c.seasonal ?? null, timezone: this.seasonalZone ?? null }),
      detectorHashes: Object.fromEntries(Object.entries(detectorOptionsKeys(c.detectors, detectorContext(c))).map(([name, key]) => [name, stableHash(key)])),
    };
  }

  /** The models of every signal, for the state store (typed arrays shared, not copied). */
  exportState(): SavedSignal[] {
    return this.signals.map((s) => ({
      signal: s.name,
      ...this.stateHashes(s.name),
      lastFit: s.lastFit,
      series: [...s.series.values()].map((x) => ({
        labels: x.labels,
        lastTs: x.lastTs,
        onset: x.onset,
        sinceFlag: Number.isFinite(x.sinceFlag) ? x.sinceFlag : undefined,
        model: x.model.toState(),
      })),
    }));
  }

  /**
   * Restores saved models (from StateStore.load, already checked against the config): scoring goes
   * on from each series' last scored sample, without a new warm-up. Returns the series restored.
   */
  restoreState(saved: SavedSignal): number {
    const s = this.signals.find((x) => x.name === saved.signal);
    if (!s) return 0;
    let restored = 0;
    for (const entry of saved.series) {
      try {
        const model = SeriesModel.load(entry.model, s.modelConfig);
        s.series.set(labelKey(entry.labels), {
          labels: entry.labels,
          publicLabels: publishedLabels(entry.labels, s.name),
          model,
          lastTs: entry.lastTs,
          lastSeen: entry.lastTs,
          onset: entry.onset,
          sinceFlag: entry.sinceFlag ?? Infinity,
          recent: { ts: [], values: [] },
          history: new SeriesHistory(this.config.server.history_samples),
        });
        restored++;
      } catch (err) {
        this.log.warn('saved series state unusable; that series starts fresh', { signal: s.name, labels: entry.labels, error: errorMessage(err) });
      }
    }
    if (Number.isFinite(saved.lastFit)) {
      s.lastFit = saved.lastFit;
      s.lastFitAttempt = saved.lastFit;
    }
    return restored;
  }

  /** Makes the next cycle refit every signal (used by the fit_cron job). */
  requestFit(): void {
    this.forceFit = true;
  }

  async runOnce(now: Date, abort: AbortSignal): Promise<RunReport> {
    const started = performance.now();
    const end = Math.floor(now.getTime() / 1000 / this.stepS) * this.stepS;
    const forceFit = this.forceFit;
    this.forceFit = false;
    const reports: Record<string, SignalReport> = {};
    const queue = [...this.signals];
    const workers = Array.from({ length: Math.min(this.config.reader.concurrency, queue.length) }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) reports[s.name] = await this.runSignal(s, end, forceFit, abort);
    });
    await Promise.all(workers);

    const outcomes = Object.values(reports);
    const answered = outcomes.filter((r) => r.ok || (r.errorKind !== undefined && !['network', 'timeout', 'aborted', 'http5xx'].includes(r.errorKind)));
    const aborted = abort.aborted;
    const sourceUp = answered.length > 0;
    if (!aborted) {
      const published = this.signals.flatMap((s) => s.published);
      const c = this.config.correlation;
      const grouped = groupPublished(published, this.config.reader.group_by);
      const forestScores = this.groupForests?.update(grouped, end);
      const opts = { groupBy: this.config.reader.group_by, methods: c.methods, minSamples: c.min_samples, kinds: this.kinds };
      const groups = grouped.map((g) => ({ ...analyseGroup(g.labels, g.members, opts), forestScore: forestScores?.get(g.key) }));
      this.snap = Object.freeze({ builtAtSeconds: now.getTime() / 1000, series: Object.freeze(published.map((p) => p.result)), groups: Object.freeze(groups) });
      this.metrics?.sourceUp.set(sourceUp ? 1 : 0);
      if (sourceUp) this.metrics?.lastSuccess.set(now.getTime() / 1000);
    }
    return { endSeconds: end, durationSeconds: (performance.now() - started) / 1000, sourceUp, aborted, signals: reports };
  }

  private async runSignal(s: SignalState, end: number, forceFit: boolean, abort: AbortSignal): Promise<SignalReport> {
    const sched = this.config.scheduler;
    const warming = s.series.size === 0 || [...s.series.values()].some((x) => !x.model.fullyFitted);
    const warmupRefitS = Math.min(sched.fit_every, 5 * sched.infer_every) / 1000;
    const scheduledFit = forceFit || end - s.lastFit >= sched.fit_every / 1000;
    // A warm-up refit fits only the series still warming up (a new pod, say), not all of them.
    const fitDue = scheduledFit || (warming && end - s.lastFitAttempt >= warmupRefitS);
    // Signals read and refit one at a time: a refit reads the whole fit_window of every series
    // (39 MB for 3,300 series of 1,440 points), and the fits share one worker pool anyway. The
    // next signal's read and fit start while this one scores its new samples.
    const release = fitDue ? await this.fitSlot.acquire() : undefined;
    try {
      return await this.readFitScore(s, end, fitDue, scheduledFit, abort, release);
    } finally {
      release?.();
    }
  }

  private async readFitScore(
    s: SignalState,
    end: number,
    fitDue: boolean,
    scheduledFit: boolean,
    abort: AbortSignal,
    fitDone?: () => void,
  ): Promise<SignalReport> {
    const start = fitDue ? end - this.config.scheduler.fit_window / 1000 : this.inferStart(s, end);
    let raw: RawSeries[];
    const t0 = performance.now();
    try {
      this.metrics?.queries.inc({ signal: s.name });
      raw = await this.reader.queryRange({ signal: s.name, query: s.query, startSeconds: start, endSeconds: end, stepSeconds: this.stepS }, abort);
    } catch (err) {
      this.metrics?.queryErrors.inc({ signal: s.name });
      const kind = err instanceof ReaderError ? (err.kind === 'http' && (err.status ?? 0) >= 500 ? 'http5xx' : err.kind) : 'internal';
      s.published = [];
      this.metrics?.series.set({ signal: s.name }, 0);
      if (kind !== 'aborted') this.log.warn('query failed', { signal: s.name, kind, error: errorMessage(err) });
      return { ok: false, fitted: false, fittedSeries: 0, series: 0, error: errorMessage(err), errorKind: kind };
    } finally {
      this.metrics?.queryDuration.observe({ signal: s.name }, (performance.now() - t0) / 1000);
    }

    const fitStarted = performance.now();
    const states = raw.map((r) => this.seriesState(s, r, end));
    let fittedSeries = 0;
    if (fitDue) {
      s.lastFitAttempt = end;
      fittedSeries = await this.fitAll(s, raw, states, end, !scheduledFit);
      if (!abort.aborted) {
        if (scheduledFit) s.lastFit = end;
        this.metrics?.fitDuration.observe({ signal: s.name }, (performance.now() - fitStarted) / 1000);
      }
      fitDone?.();
    }
    const published: PublishedSeries[] = [];
    const recentFrom = end - this.config.correlation.window / 1000;
    let sinceYield = performance.now();
    for (let k = 0; k < raw.length && !abort.aborted; k++) {
      const r = raw[k];
      const result = this.scoreSeries(s.name, states[k], r);
      keepRecent(states[k].recent, r, recentFrom);
      // Published only while present now: a series whose newest sample is older than this
      // cycle's last step has left the source, even if the range still holds its older points.
      const newest = r.timestamps[r.timestamps.length - 1];
      if (result && newest >= end - this.stepS) published.push({ result, recent: states[k].recent });
      // Long loops must not starve /metrics: give the event loop a turn every ~20 ms.
      if (performance.now() - sinceYield > 20) {
        await new Promise((resolve) => setImmediate(resolve));
        sinceYield = performance.now();
      }
    }
    this.forgetVanished(s, end);
    s.published = published;
    this.metrics?.series.set({ signal: s.name }, published.length);
    return { ok: true, fitted: fitDue, fittedSeries, series: published.length };
  }

  /** Score from just after the oldest series' last scored sample, within the fit window. */
  private inferStart(s: SignalState, end: number): number {
    let oldest = Infinity;
    for (const x of s.series.values()) oldest = Math.min(oldest, x.lastTs);
    const floor = end - this.config.scheduler.fit_window / 1000;
    if (!Number.isFinite(oldest)) return Math.max(floor, end - this.config.scheduler.infer_every / 1000);
    return Math.min(end, Math.max(floor, oldest + this.stepS));
  }

  private seriesState(s: SignalState, r: RawSeries, end: number): SeriesState {
    const key = labelKey(r.labels);
    let state = s.series.get(key);
    if (!state) {
      state = {
        labels: r.labels,
        publicLabels: publishedLabels(r.labels, s.name),
        model: new SeriesModel(s.modelConfig),
        lastTs: -Infinity,
        lastSeen: end,
        sinceFlag: Infinity,
        recent: { ts: [], values: [] },
        history: new SeriesHistory(this.config.server.history_samples),
      };
      s.series.set(key, state);
    }
    state.lastSeen = end;
    return state;
  }

  /**
   * Refits every series on the window's finite samples up to the last one already scored (or all
   * but the newest for a new series), so the samples after it are then scored by the new fit.
   * The fits run on the fitter (worker threads in the daemon) and are adopted here.
   */
  private async fitAll(s: SignalState, raw: RawSeries[], states: SeriesState[], end: number, warmingOnly: boolean): Promise<number> {
    // Batches stream to the fitter with a few in flight per worker, so training copies and
    // messages for thousands of series never pile up at once.
    const window = Math.max(2, 2 * this.fitter.size);
    const inflight = new Set<Promise<void>>();
    let fitted = 0;
    for (let from = 0; from < raw.length; from += FIT_BATCH) {
      const jobs: FitJob[] = [];
      const owners: { state: SeriesState; trainedUntil: number }[] = [];
      for (let k = from; k < Math.min(raw.length, from + FIT_BATCH); k++) {
        if (warmingOnly && states[k].model.fullyFitted) continue;
        const job = trainingJob(raw[k], states[k], String(k), this.seasonalZone);
        if (!job) continue;
        jobs.push(job.job);
        owners.push({ state: states[k], trainedUntil: job.trainedUntil });
      }
      if (jobs.length === 0) continue;
      fitted += jobs.length;
      const p = this.fitter.fit(s.modelConfig, jobs, end).then((results) =>
        results.forEach((result, j) => {
          const { state, trainedUntil } = owners[j];
          if (!result.state) {
            this.log.warn('fit failed', { signal: s.name, labels: state.labels, error: result.error });
            return;
          }
          state.model.adoptFit(SeriesModel.load(result.state, s.modelConfig));
          state.lastTs = Math.max(state.lastTs, trainedUntil);
        }),
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= window) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    return fitted;
  }

  /** Scores the finite samples newer than lastTs and returns the newest as the series' result. */
  private scoreSeries(signal: string, state: SeriesState, r: RawSeries): SeriesResult | undefined {
    const fresh: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < r.values.length; i++) {
      if (r.timestamps[i] > state.lastTs && Number.isFinite(r.values[i])) {
        fresh.push(r.values[i]);
        times.push(r.timestamps[i]);
      }
    }
    if (fresh.length > 0) {
      const s = state.model.score(Float64Array.from(fresh), this.seasonalZone === undefined ? undefined : hoursOfWeek(times, this.seasonalZone));
      // A series is anomalous from a score above 1 until hold_samples samples pass without one:
      // the ensemble flags changes, and a change is an incident for a while, not for one sample.
      const hold = this.config.ensemble.hold_samples;
      for (let i = 0; i < s.rows; i++) {
        state.history.push(times[i], fresh[i], s.expected[i], s.lower[i], s.upper[i], s.ensemble[i]);
        if (s.ensemble[i] > 1) {
          state.sinceFlag = 0;
          state.onset ??= times[i];
        } else if (++state.sinceFlag >= hold) {
          state.onset = undefined;
        }
      }
      const last = s.rows - 1;
      const scores: Record<string, number> = {};
      for (const [name, arr] of Object.entries(s.models)) scores[name] = arr[last];
      state.lastTs = times[last];
      state.latest = Object.freeze({
        signal,
        labels: state.publicLabels,
        timestampSeconds: times[last],
        value: fresh[last],
        scores: Object.freeze(scores),
        ensemble: s.ensemble[last],
        expected: s.expected[last],
        lower: s.lower[last],
        upper: s.upper[last],
        anomalous: state.onset !== undefined,
        onsetSeconds: state.onset,
      });
      this.histories.set(state.latest, state.history);
    }
    return state.latest;
  }

  /** Drops the models of series unseen for a whole fit window. */
  private forgetVanished(s: SignalState, end: number): void {
    const horizon = end - this.config.scheduler.fit_window / 1000;
    for (const [key, x] of s.series) if (x.lastSeen < horizon) s.series.delete(key);
  }
}

/** Appends the finite samples newer than the last kept one and drops those before `from`. */
function keepRecent(recent: RecentSamples, r: RawSeries, from: number): void {
  const last = recent.ts.length ? recent.ts[recent.ts.length - 1] : -Infinity;
  for (let i = 0; i < r.timestamps.length; i++) {
    if (r.timestamps[i] > last && r.timestamps[i] >= from && Number.isFinite(r.values[i])) {
      recent.ts.push(r.timestamps[i]);
      recent.values.push(r.values[i]);
    }
  }
  let drop = 0;
  while (drop < recent.ts.length && recent.ts[drop] < from) drop++;
  if (drop > 0) {
    recent.ts.splice(0, drop);
    recent.values.splice(0, drop);
  }
}

function publishedLabels(source: Record<string, string>, signal: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) out[RESERVED_LABELS.includes(k) ? `exported_${k}` : k] = v;
  out.signal = signal;
  return Object.freeze(out);
}
