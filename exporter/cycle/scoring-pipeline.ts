/**
 * The scoring pipeline: signals → snapshot. Each cycle runs every signal's cycle (read → refit if
 * due → score, a few signals at a time), then builds a new immutable snapshot. A failing signal
 * never stops the others: its error is reported, its series leave the snapshot, the rest go on.
 */
import { Logger } from '../../common/logger';
import { Mutex } from '../../common/mutex';
import { ExporterConfig, shardSpec } from '../config/config';
import { Shard } from '../shard/shard';
import { ShardReader } from '../shard/shard-reader';
import { seriesModelConfig } from '../config/model-config';
import { FitPool } from '../fit/fit-pool';
import { GroupAnalysisOptions } from '../group/group-analysis';
import { ForestFitter, GroupForests, SavedGroupForest } from '../group/group-forests';
import { signalKind } from '../group/incident-rules';
import { SelfMetrics } from '../publish/self-metrics';
import { EMPTY_SNAPSHOT, SeriesResult, Snapshot } from '../publish/snapshot';
import { isSourceDown, Reader } from '../read/reader';
import { exportSignal, restoreSignal, StateHashes, stateHashes } from '../state/model-state';
import { SavedSignal, stableHash } from '../state/state-store';
import { Fitter } from './fit-dispatch';
import { fitOptions, fitWindowSeconds } from './fit-schedule';
import { buildSnapshot } from './snapshot-build';
import { HistoryArrays, SeriesHistory } from './series-history';
import { CycleContext, SignalCycle, SignalReport } from './signal-cycle';
import { FeedbackBook } from '../feedback/feedback-book';
import { FEEDBACK_DEFAULTS } from '../config/config-schema';

export type { SignalReport } from './signal-cycle';

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

/** What a pipeline built on a config reload took over from the one before it. */
export interface AdoptionReport {
  /** Unchanged signals: moved over whole (series, models, history, fit schedule). */
  kept: string[];
  /** Changed signals whose models still fit the new config: their series move over with the models the change left valid. */
  restored: string[];
  /** New signals, and changed ones whose models do not fit (another query, step or scoring). */
  fresh: string[];
}

export class ScoringPipeline implements Pipeline {
  private signals: SignalCycle[];
  private snap: Snapshot = EMPTY_SNAPSHOT;
  private readonly histories: WeakMap<SeriesResult, SeriesHistory>;
  private fitRequested = false;
  private readonly stepS: number;
  private readonly analysis: GroupAnalysisOptions;
  private readonly groupForests?: GroupForests;
  private readonly groupForestsKey: string;
  private readonly ctx: CycleContext;
  /** Set when built from a previous pipeline (config reload). */
  readonly adopted?: AdoptionReport;
  /** What the reader reads from (every reader setting but the signals): kept fit windows stay valid while it is the same. */
  private readonly sourceKey: string;
  /** Operator feedback marks (from Alertmanager's silences, or a backtest's simulated operator). */
  readonly feedback: FeedbackBook;

  constructor(
    private readonly config: ExporterConfig,
    reader: Reader,
    private readonly log: Logger,
    private readonly metrics?: SelfMetrics,
    /** Where refits run; by default on this thread. The daemon passes a pool of worker threads. */
    fitter: Fitter = new FitPool(0),
    /** On a config reload, the running pipeline: what did not change is taken over from it. */
    previous?: ScoringPipeline,
  ) {
    const sched = config.scheduler;
    this.stepS = sched.step / 1000;
    const c = config.correlation;
    const kinds = Object.fromEntries(Object.entries(config.reader.signals).map(([name, sc]) => [name, signalKind(name, sc.kind)]));
    this.analysis = { groupBy: config.reader.group_by, methods: c.methods, minSamples: c.min_samples, kinds };
    const { signals: _signals, ...source } = config.reader;
    this.sourceKey = stableHash({ source, shard: shardSpec(config) });
    this.groupForestsKey = stableHash({ gf: config.models.isolation_forest_group ?? null, sched, groupBy: config.reader.group_by });
    this.groupForests = previous && previous.groupForestsKey === this.groupForestsKey ? previous.groupForests : groupForests(config, fitter);
    this.histories = previous?.histories ?? new WeakMap();
    this.feedback = previous?.feedback ?? new FeedbackBook((kind) => metrics?.feedback.inc({ kind }));
    const shard = new Shard(shardSpec(config), config.reader.group_by);
    const ctx: CycleContext = {
      // A replica of several reads and scores only its share of the groups.
      reader: shard.sharded ? new ShardReader(reader, shard, log) : reader,
      fitter,
      log,
      metrics,
      fitSlot: new Mutex(),
      fitReadSlot: new Mutex(),
      histories: this.histories,
      stepSeconds: this.stepS,
      fitWindowSeconds: fitWindowSeconds(sched),
      refitReads: config.reader.refit_reads,
      acceptAfterSeconds: sched.accept_after / 1000,
      inferEverySeconds: sched.infer_every / 1000,
      correlationWindowSeconds: c.window / 1000,
      fitSchedule: fitOptions(sched),
      feedback: this.feedback,
    };
    const seasonalZone = config.models.seasonal ? sched.timezone : undefined;
    this.signals = Object.entries(config.reader.signals).map(([name, s]) => {
      const tracking = {
        signal: name,
        modelConfig: seriesModelConfig(config, s),
        seasonalZone,
        holdSamples: config.ensemble.hold_samples,
        historySamples: config.server.history_samples,
        feedback: {
          margin: config.alertmanager?.false_positive_margin ?? FEEDBACK_DEFAULTS.false_positive_margin,
          lookbackSeconds: (config.alertmanager?.lookback ?? FEEDBACK_DEFAULTS.lookback) / 1000,
          halfLifeSeconds: halfLife(config.alertmanager?.false_positive_half_life ?? FEEDBACK_DEFAULTS.false_positive_half_life),
          timeOfDaySeconds: halfLife(config.alertmanager?.false_positive_time_of_day ?? FEEDBACK_DEFAULTS.false_positive_time_of_day),
        },
      };
      return new SignalCycle(s.query, tracking, ctx);
    });
    this.ctx = ctx;
    if (previous) this.adopted = this.adopt(previous);
  }

  /**
   * Takes over from the pipeline of the config before a reload: an unchanged signal moves over
   * whole; a changed one keeps the models the change did not invalidate (the same hashes as the
   * state store's); the last snapshot stays published until this pipeline's first cycle.
   */
  private adopt(previous: ScoringPipeline): AdoptionReport {
    const report: AdoptionReport = { kept: [], restored: [], fresh: [] };
    const sameSource = previous.sourceKey === this.sourceKey;
    this.signals = this.signals.map((s) => {
      const old = previous.signals.find((x) => x.name === s.name);
      if (!old) {
        report.fresh.push(s.name);
        return s;
      }
      if (cycleIdentity(old, previous.ctx) === cycleIdentity(s, this.ctx)) {
        old.rebind(this.ctx, sameSource);
        report.kept.push(s.name);
        return old;
      }
      const before = stateHashes(old, previous.stepS);
      const now = this.stateHashes(s.name);
      if (before.signalHash !== now.signalHash) {
        report.fresh.push(s.name);
        return s;
      }
      s.takeSeries(old, (d) => before.detectorHashes[d] !== undefined && before.detectorHashes[d] === now.detectorHashes[d]);
      if (sameSource) s.takeWindow(old);
      report.restored.push(s.name);
      return s;
    });
    this.snap = previous.snap;
    return report;
  }

  get snapshot(): Snapshot {
    return this.snap;
  }

  /** The recent scored samples of the series a snapshot result belongs to, oldest first. */
  historyOf(result: SeriesResult): HistoryArrays | undefined {
    return this.histories.get(result)?.toArrays();
  }

  /** What each signal's models depend on, for invalidating saved state after a config change. */
  stateHashes(signal: string): StateHashes {
    return stateHashes(this.signal(signal), this.stepS);
  }

  /** The models of every signal, for the state store (typed arrays shared, not copied). */
  exportState(): SavedSignal[] {
    return this.signals.map((s) => exportSignal(s, this.stepS));
  }

  /** Restores a signal's saved models (see state/model-state.ts); returns the series restored. */
  restoreState(saved: SavedSignal): number {
    const s = this.signals.find((x) => x.name === saved.signal);
    return s ? restoreSignal(s, saved, this.log) : 0;
  }

  /** What the group forests' saved state depends on: another config starts them fresh. */
  get groupForestsHash(): string | undefined {
    return this.groupForests ? this.groupForestsKey : undefined;
  }

  /** The group forests for the state store (none when they are off). */
  exportGroupForests(): SavedGroupForest[] {
    return this.groupForests?.exportState() ?? [];
  }

  /** Restores saved group forests; returns how many. */
  restoreGroupForests(saved: readonly SavedGroupForest[]): number {
    return this.groupForests?.restoreState(saved) ?? 0;
  }

  /** Resolves when the group forests' fits on the workers are adopted (tests, shutdown). */
  async groupFitsSettled(): Promise<void> {
    await this.groupForests?.settled();
  }

  /** Makes the next cycle refit every signal (used by the fit_cron job). */
  requestFit(): void {
    this.fitRequested = true;
  }

  /** Whether the cycle run at `now` refits some signal (it then has scheduler.fit_timeout, not cycle_timeout). */
  refitsAt(now: Date): boolean {
    const end = this.cycleEnd(now);
    return this.signals.some((s) => s.fitDue(end, this.fitRequested).due);
  }

  private cycleEnd(now: Date): number {
    return Math.floor((now.getTime() - this.config.reader.query_offset) / 1000 / this.stepS) * this.stepS;
  }

  async runOnce(now: Date, abort: AbortSignal): Promise<RunReport> {
    const started = performance.now();
    const end = this.cycleEnd(now);
    const fitRequested = this.fitRequested;
    this.fitRequested = false;
    const reports: Record<string, SignalReport> = {};
    const queue = [...this.signals];
    const workers = Array.from({ length: Math.min(this.config.reader.concurrency, queue.length) }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) reports[s.name] = await s.run(end, fitRequested, abort);
    });
    await Promise.all(workers);

    // The source answered when some signal got an answer, even a refusal of its query.
    const sourceUp = Object.values(reports).some((r) => r.ok || (r.errorKind !== undefined && r.errorKind !== 'aborted' && !isSourceDown(r.errorKind)));
    const aborted = abort.aborted;
    if (!aborted) {
      const published = this.signals.flatMap((s) => s.published);
      this.snap = await buildSnapshot(published, now.getTime() / 1000, end, this.analysis, this.groupForests);
      this.metrics?.sourceUp.set(sourceUp ? 1 : 0);
      if (sourceUp) this.metrics?.lastSuccess.set(now.getTime() / 1000);
    } else if (!sourceUp) {
      // Cut by its timeout before any answer came: the source hangs, which is down for whoever
      // watches source_up (it stayed 1 through a hang before).
      this.metrics?.sourceUp.set(0);
    }
    return { endSeconds: end, durationSeconds: (performance.now() - started) / 1000, sourceUp, aborted, signals: reports };
  }

  private signal(name: string): SignalCycle {
    const s = this.signals.find((x) => x.name === name);
    if (!s) throw new Error(`no signal ${name}`);
    return s;
  }
}

/** Everything a signal's cycle depends on besides the reader and the fitter, which may be swapped. */
function cycleIdentity(s: SignalCycle, ctx: CycleContext): string {
  const { reader: _r, fitter: _f, log: _l, metrics: _m, fitSlot: _s, fitReadSlot: _rs, histories: _h, ...settings } = ctx;
  return stableHash({ query: s.query, tracking: s.tracking, settings });
}

/** The per-group multivariate forests, when `models.isolation_forest_group` is enabled, fitted where the series models are. */
function groupForests(config: ExporterConfig, fitter: Fitter): GroupForests | undefined {
  const gf = config.models.isolation_forest_group;
  if (!gf) return undefined;
  const sched = config.scheduler;
  return new GroupForests(
    {
      maxChannels: gf.max_channels,
      changes: gf.changes,
      trees: gf.trees,
      sampleSize: gf.sample_size,
      seed: gf.seed,
      contamination: gf.contamination,
      calibrationSamples: gf.calibration_samples,
      minSamples: gf.min_samples,
      fitsPerCycle: gf.fits_per_cycle,
      ...fitOptions(sched),
      windowRows: Math.min(gf.max_rows, Math.ceil((fitWindowSeconds(sched) * 1000) / sched.step)),
    },
    'fitForests' in fitter ? (fitter as ForestFitter) : undefined,
  );
}

/** A half-life in ms as seconds; 0 is for good. */
function halfLife(ms: number): number {
  return ms > 0 ? ms / 1000 : Infinity;
}
