/**
 * One signal's part of a cycle: read → refit if due → score → its published series. A failure
 * is data: the signal reports it, its series leave the snapshot, the other signals go on.
 */
import { errorMessage } from '../../common/errors';
import { Logger } from '../../common/logger';
import { Mutex } from '../../common/mutex';
import { SeriesModel, SeriesModelConfig } from '../../models';
import { labelKey } from '../read/query-range-response';
import { RawSeries, Reader, readFailureKind, ReadFailureKind } from '../read/reader';
import { PublishedSeries } from '../group/group-analysis';
import { SelfMetrics } from '../publish/self-metrics';
import { SeriesResult } from '../publish/snapshot';
import { Fitter, fitSeries } from './fit-dispatch';
import { FitDecision, fitDecision, FitScheduleOptions } from './fit-schedule';
import { SeriesHistory } from './series-history';
import { SeriesTracker, TrackerContext } from './series-tracker';
import { answerSamples, SeriesSamples, SignalWindow } from './signal-window';
import { LoopTurns } from '../../common/loop-turns';
import { FeedbackBook } from '../feedback/feedback-book';
import { scoringStart } from './training-window';

export interface SignalReport {
  ok: boolean;
  /** Whether this cycle refitted the signal's models. */
  fitted: boolean;
  /** How many series were refitted (all on a scheduled refit, only those warming up otherwise). */
  fittedSeries: number;
  series: number;
  error?: string;
  errorKind?: ReadFailureKind;
}

/** What every signal of a pipeline shares. */
export interface CycleContext {
  reader: Reader;
  fitter: Fitter;
  log: Logger;
  metrics?: SelfMetrics;
  /**
   * Refits take turns: the fits share one worker pool anyway, and each holds the whole fit_window
   * of its series (115 MB of samples for 10,000 series of 1,440 points). The next refitting
   * signal reads its window while this one fits (fitReadSlot), so the source and the fits
   * overlap, with at most two windows held at once.
   */
  fitSlot: Mutex;
  fitReadSlot: Mutex;
  /** Each published result's series history (weak: results of old snapshots go with them). */
  histories: WeakMap<SeriesResult, SeriesHistory>;
  stepSeconds: number;
  fitWindowSeconds: number;
  /** reader.refit_reads: keep each signal's window and read only new samples for a refit, or read the whole window. */
  refitReads: 'new_samples' | 'fit_window';
  /** scheduler.accept_after, seconds. */
  acceptAfterSeconds: number;
  inferEverySeconds: number;
  correlationWindowSeconds: number;
  fitSchedule: FitScheduleOptions;
  /** Operator feedback (Alertmanager silences with a marker), taken in by each series. */
  feedback: FeedbackBook;
}

export class SignalCycle {
  readonly series = new Map<string, SeriesTracker>();
  lastFit = -Infinity;
  lastFitAttempt = -Infinity;
  /** Results of the last successful query, published in the snapshot. */
  published: PublishedSeries[] = [];
  /** The fit window as read so far (reader.refit_reads: new_samples), so a refit reads only what is new. */
  private window: SignalWindow;
  /** The series of the last successful answer (undefined before the first): the others have left the source. */
  private lastAnswer?: Set<string>;

  constructor(
    readonly query: string,
    readonly tracking: TrackerContext,
    private ctx: CycleContext,
  ) {
    this.window = new SignalWindow(ctx.stepSeconds, ctx.fitWindowSeconds);
  }

  /**
   * Moves this signal, with its series, models and history, into another pipeline's context (a
   * config reload that left the signal unchanged). Only between cycles: never while it runs.
   */
  rebind(ctx: CycleContext, sameSource: boolean): void {
    this.ctx = ctx;
    // A reader that reads another source now (another URL, other credentials or offsets): the
    // next refit reads the whole window. The same source: the kept window still holds.
    if (!sameSource) this.window.clear();
  }

  /**
   * Takes over the kept fit window of the signal this one replaces (a config reload that changed
   * its models, not its query, step, fit window or source), so its refit reads only new samples
   * instead of the whole window again: 351 MB of answers at 10,000 series of 24 h, read and
   * parsed at once, which the process does not give back to the system afterwards (bench:soak).
   */
  takeWindow(previous: SignalCycle): void {
    if (previous.query !== this.query || previous.ctx.stepSeconds !== this.ctx.stepSeconds || previous.ctx.fitWindowSeconds !== this.ctx.fitWindowSeconds)
      return;
    this.window = previous.window;
  }

  /**
   * Takes over the series of the signal this one replaces (a config reload that changed some of
   * its models, not its query, scoring, step or seasonal profile): each series' model moves over
   * with the detectors `keep` accepts (the others start fresh), and so does the tracker, with its
   * scored history and ongoing incident. Nothing is copied: a reload at 10,000 series does not
   * hold every model twice. Only between cycles.
   */
  takeSeries(previous: SignalCycle, keep: (detector: string) => boolean): void {
    for (const [key, t] of previous.series) this.series.set(key, t.movedTo(t.model.movedTo(this.modelConfig, keep), this.tracking));
    previous.series.clear();
    this.lastFit = previous.lastFit;
    this.lastFitAttempt = previous.lastFit;
  }

  get name(): string {
    return this.tracking.signal;
  }

  get modelConfig(): SeriesModelConfig {
    return this.tracking.modelConfig;
  }

  /** Whether a cycle ending at `end` refits this signal, and which series. */
  fitDue(end: number, fitRequested: boolean): FitDecision {
    const warming = this.series.size === 0 || [...this.series.values()].some((x) => !x.model.fullyFitted);
    return fitDecision(end, { lastFit: this.lastFit, lastFitAttempt: this.lastFitAttempt, warming, requested: fitRequested }, this.ctx.fitSchedule);
  }

  async run(end: number, fitRequested: boolean, abort: AbortSignal): Promise<SignalReport> {
    const fit = this.fitDue(end, fitRequested);
    if (!fit.due) return this.readFitScore(end, undefined, abort);
    // Read while the signal before fits; hold the read slot until this one may fit.
    let releaseRead: (() => void) | undefined = await this.ctx.fitReadSlot.acquire();
    let releaseFit: (() => void) | undefined;
    const fitSlot = async () => {
      releaseFit = await this.ctx.fitSlot.acquire();
      releaseRead?.();
      releaseRead = undefined;
    };
    try {
      return await this.readFitScore(end, fit.scope, abort, { fitSlot, fitDone: () => releaseFit?.() });
    } finally {
      releaseRead?.();
      releaseFit?.();
    }
  }

  private async readFitScore(
    end: number,
    fitScope: 'all' | 'warming' | undefined,
    abort: AbortSignal,
    slots?: { fitSlot: () => Promise<void>; fitDone: () => void },
  ): Promise<SignalReport> {
    const { fitWindowSeconds } = this.ctx;
    const keep = this.ctx.refitReads === 'new_samples';
    const fitFrom = end - fitWindowSeconds;
    /** Reads [start, end] and keeps the answer in the window; the failed report if the read failed. */
    const readKept = async (start: number): Promise<{ answer: RawSeries[]; keys: string[] } | SignalReport> => {
      const answer = await this.read(start, end, abort);
      if (!Array.isArray(answer)) return answer;
      const keys = answer.map((r) => labelKey(r.labels));
      if (keep) await this.window.absorbInTurns(answer, keys, start, end);
      else this.window.clear();
      return { answer, keys };
    };
    // A refit whose window is already here reads only the samples since the last cycle.
    const wholeWindow = fitScope !== undefined && !(keep && this.window.covers(fitFrom));
    let got = await readKept(wholeWindow ? fitFrom : this.scoringStart(end));
    // The new samples broke the window (off the step grid): read it whole after all.
    if ('keys' in got && fitScope !== undefined && !wholeWindow && !this.window.covers(fitFrom)) got = await readKept(fitFrom);
    if (!('keys' in got)) return got;
    const { keys } = got;
    this.lastAnswer = new Set(keys);
    // A refit fits on the kept window (each series decoded when its fit or its scoring reads it),
    // whether it read the whole of it now or only the new samples, so that a whole answer is not
    // held beside its copy while the fits run.
    const fromWindow = fitScope !== undefined && keep && this.window.covers(fitFrom);
    const samples = fromWindow ? this.window.read(fitFrom) : answerSamples(got.answer, keys);
    got = { answer: [], keys }; // the whole answer goes now when the fits take the window
    // What the reads decode stays as it was until the fits and the scoring are done, even past a cut cycle.
    const release = fromWindow ? this.window.hold() : undefined;
    try {
      return await this.fitAndScore(samples, end, fitScope, abort, slots);
    } finally {
      release?.();
    }
  }

  private async fitAndScore(
    samples: SeriesSamples[],
    end: number,
    fitScope: 'all' | 'warming' | undefined,
    abort: AbortSignal,
    slots?: { fitSlot: () => Promise<void>; fitDone: () => void },
  ): Promise<SignalReport> {
    const { metrics, log } = this.ctx;
    await slots?.fitSlot();

    const trackers = samples.map((s) => this.tracker(s.labels, end, s.key));
    let fittedSeries = 0;
    if (fitScope !== undefined) {
      const fitStarted = performance.now();
      this.lastFitAttempt = end;
      const req = {
        signal: this.name,
        modelConfig: this.modelConfig,
        seasonalZone: this.tracking.seasonalZone,
        endSeconds: end,
        warmingOnly: fitScope === 'warming',
        acceptAfterSeconds: this.ctx.acceptAfterSeconds,
        fitWindowSeconds: this.ctx.fitWindowSeconds,
      };
      fittedSeries = await fitSeries(this.ctx.fitter, req, samples, trackers, log);
      // The fits run to the end even when the cycle is cut meanwhile, and every series has adopted
      // its fit: recorded, so the next cycle scores with them instead of fitting all over again.
      if (fitScope === 'all') this.lastFit = end;
      metrics?.fitDuration.observe({ signal: this.name }, (performance.now() - fitStarted) / 1000);
      slots?.fitDone();
    }
    const published = await this.score(samples, trackers, end, abort);
    this.forgetVanished(end);
    this.published = published;
    metrics?.series.set({ signal: this.name }, published.length);
    return { ok: true, fitted: fitScope !== undefined, fittedSeries, series: published.length };
  }

  /** The signal's range answer, or the failed report (its series leave the snapshot). */
  private async read(start: number, end: number, abort: AbortSignal): Promise<RawSeries[] | SignalReport> {
    const { metrics, log } = this.ctx;
    const t0 = performance.now();
    let timed = false;
    const onTiming = (t: { sourceSeconds: number; parseSeconds: number }) => {
      timed = true;
      metrics?.queryDuration.observe({ signal: this.name }, t.sourceSeconds);
      metrics?.parseDuration.observe({ signal: this.name }, t.parseSeconds);
    };
    try {
      metrics?.queries.inc({ signal: this.name });
      return await this.ctx.reader.queryRange(
        { signal: this.name, query: this.query, startSeconds: start, endSeconds: end, stepSeconds: this.ctx.stepSeconds, onTiming },
        abort,
      );
    } catch (err) {
      metrics?.queryErrors.inc({ signal: this.name });
      const kind = readFailureKind(err);
      this.published = [];
      metrics?.series.set({ signal: this.name }, 0);
      if (kind !== 'aborted') log.warn('query failed', { signal: this.name, kind, error: errorMessage(err) });
      return { ok: false, fitted: false, fittedSeries: 0, series: 0, error: errorMessage(err), errorKind: kind };
    } finally {
      // A reader without a wire (in memory) reports no split: the whole read is the query.
      if (!timed) metrics?.queryDuration.observe({ signal: this.name }, (performance.now() - t0) / 1000);
    }
  }

  /** Scores each series' new samples; the series present now are published. */
  private async score(samples: SeriesSamples[], trackers: SeriesTracker[], end: number, abort: AbortSignal): Promise<PublishedSeries[]> {
    const published: PublishedSeries[] = [];
    const recentFrom = end - this.ctx.correlationWindowSeconds;
    const turns = new LoopTurns();
    for (let k = 0; k < samples.length && !abort.aborted; k++) {
      const tracker = trackers[k];
      // What scoring and the recent samples need: the samples after the last scored one, and the
      // correlation window (a series in the window and its last scored sample are both on the grid).
      const r = samples[k].read(Math.min(tracker.lastTs, recentFrom));
      const before = tracker.latest;
      const result = tracker.score(r);
      if (result && result !== before) this.ctx.histories.set(result, tracker.history);
      tracker.keepRecent(r, recentFrom);
      // Published only while present now: a series whose newest sample is older than this
      // cycle's last step has left the source, even if the range still holds its older points.
      const newest = r.timestamps.length ? r.timestamps[r.timestamps.length - 1] : -Infinity;
      if (result && newest >= end - this.ctx.stepSeconds) {
        const key = samples[k].key;
        const window = this.window;
        const fitFrom = end - this.ctx.fitWindowSeconds;
        published.push({ result, recent: tracker.recent, history: () => window.readOne(key, fitFrom) });
      }
      // Long loops must not starve /metrics: give the event loop a turn every ~20 ms.
      if (turns.due()) await turns.take();
    }
    return published;
  }

  private scoringStart(end: number): number {
    // From the oldest last scored sample of the series the last read held: one that has left the
    // source (absent since) would otherwise pull every read back to its last sample for a whole
    // fit window.
    let oldest = Infinity;
    for (const [key, x] of this.series) if (!this.lastAnswer || this.lastAnswer.has(key)) oldest = Math.min(oldest, x.lastTs);
    return scoringStart(oldest, end, {
      fitWindowSeconds: this.ctx.fitWindowSeconds,
      inferEverySeconds: this.ctx.inferEverySeconds,
      stepSeconds: this.ctx.stepSeconds,
    });
  }

  private tracker(labels: Record<string, string>, end: number, key: string): SeriesTracker {
    let t = this.series.get(key);
    if (!t) {
      t = new SeriesTracker(labels, new SeriesModel(this.modelConfig), this.tracking, end);
      this.series.set(key, t);
    }
    t.lastSeen = end;
    // Before a refit's training exclusions and before scoring: marks change both.
    t.applyFeedback(this.ctx.feedback.all, this.ctx.feedback.version);
    return t;
  }

  /** Drops the models of series unseen for a whole fit window. */
  private forgetVanished(end: number): void {
    const horizon = end - this.ctx.fitWindowSeconds;
    for (const [key, x] of this.series) {
      if (x.lastSeen >= horizon) continue;
      this.series.delete(key);
      this.window.forget(key);
    }
  }
}
