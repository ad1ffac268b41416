import { Logger, silentLogger } from '../../common/logger';
import { ExporterConfig, SignalConfig } from '../config/config';
import { FitPool } from '../fit/fit-pool';
import { MemoryReader } from '../read/memory-reader';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { FeedbackMark } from '../feedback/feedback-mark';

/**
 * Someone who answers pages during a backtest (bench:detect's simulated on-call): after each row,
 * the marks they make or change (a silence), taken in before the next row is scored.
 */
export interface FeedbackOperator {
  afterRow(row: number, timeSeconds: number, score: number): readonly FeedbackMark[];
}

export interface BacktestScores {
  stepSeconds: number;
  score: Float64Array;
  expected: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

const QUERY = 'backtest';

/** The sampling interval of a series: the median positive gap between consecutive times. */
export function medianStepSeconds(times: Float64Array): number {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) if (times[i] > times[i - 1]) gaps.push(times[i] - times[i - 1]);
  if (gaps.length === 0) return 60;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1];
}

/**
 * Each row's time on the grid of the file's median step; a row that would not come after the
 * previous one (a repeated timestamp, a step back at a daylight-saving change) goes one step after
 * it instead, so file order is kept. Gaps are kept, and so is the time of day, which the seasonal
 * profile needs.
 */
export function timeAxis(times: Float64Array, step: number): Float64Array {
  const axis = new Float64Array(times.length);
  for (let i = 0; i < times.length; i++) {
    const t = Math.round(times[i] / step) * step;
    axis[i] = i > 0 && t <= axis[i - 1] ? axis[i - 1] + step : t;
  }
  return axis;
}

/**
 * Scores a series row by row with the live pipeline's own code: one `runOnce` per row, over an
 * in-memory reader, with the config's models, ensemble, `fit_every` and `fit_window`. Causal: the
 * score of row t uses rows up to t only. See timeAxis for how rows map to cycle times.
 */
export async function backtestValues(
  values: Float64Array,
  times: Float64Array,
  config: ExporterConfig,
  signal: Pick<SignalConfig, 'direction' | 'min_deviation' | 'min_relative_deviation'> = { direction: 'both', min_deviation: 0, min_relative_deviation: 0 },
  opts: {
    logger?: Logger;
    onProgress?: (done: number, total: number) => void;
    fitter?: FitPool;
    operator?: FeedbackOperator;
    /** Operator feedback about this series (already matched to it), taken in from the first row. */
    marks?: readonly FeedbackMark[];
  } = {},
): Promise<BacktestScores> {
  const n = values.length;
  const step = medianStepSeconds(times);
  const axis = timeAxis(times, step);
  const reader = new MemoryReader();
  reader.set(QUERY, [{ labels: {}, timestamps: axis, values }]);
  const cfg: ExporterConfig = {
    ...config,
    // Only the scoring settings: a whole SignalConfig passed in carries its own query, which must not
    // replace the in-memory one (it did, and a range backtest scored every row 0).
    reader: {
      ...config.reader,
      group_by: [],
      signals: {
        value: { query: QUERY, direction: signal.direction, min_deviation: signal.min_deviation, min_relative_deviation: signal.min_relative_deviation },
      },
    },
    scheduler: backtestScheduler(config.scheduler, step),
  };
  const pipeline = new ScoringPipeline(cfg, reader, opts.logger ?? silentLogger(), undefined, opts.fitter);
  // The backtest's one series is labelled `{signal: "value"}`: marks come already matched, as any series'.
  if (opts.marks?.length) pipeline.feedback.merge(opts.marks.map((m) => ({ ...m, matchers: [] })));
  const out: BacktestScores = {
    stepSeconds: step,
    score: new Float64Array(n),
    expected: new Float64Array(n).fill(NaN),
    lower: new Float64Array(n).fill(NaN),
    upper: new Float64Array(n).fill(NaN),
  };
  const never = new AbortController().signal;
  for (let i = 0; i < n; i++) {
    await pipeline.runOnce(new Date(axis[i] * 1000), never);
    const s = pipeline.snapshot.series[0];
    if (s && s.timestampSeconds === axis[i]) {
      out.score[i] = s.ensemble;
      out.expected[i] = s.expected;
      out.lower[i] = s.lower;
      out.upper[i] = s.upper;
    }
    if (opts.operator) {
      const marks = opts.operator.afterRow(i, axis[i], out.score[i]);
      if (marks.length) pipeline.feedback.merge(marks);
    }
    if (opts.onProgress && (i % 500 === 0 || i === n - 1)) opts.onProgress(i + 1, n);
  }
  return out;
}

/**
 * The scheduler of a backtest: one cycle per row at the file's step, the config's refit interval
 * and window (at least one and two steps), no cron and no cycle timeout.
 */
export function backtestScheduler(scheduler: ExporterConfig['scheduler'], stepSeconds: number): ExporterConfig['scheduler'] {
  const stepMs = stepSeconds * 1000;
  return {
    ...scheduler,
    step: stepMs,
    infer_every: stepMs,
    fit_every: Math.max(scheduler.fit_every, stepMs),
    fit_window: Math.max(scheduler.fit_window, 2 * stepMs),
    fit_cron: undefined,
    cycle_timeout: undefined,
  };
}

/** The output CSV: one row per input row, in order. */
export function backtestCsv(timestampText: string[], values: Float64Array, s: BacktestScores): string {
  const f = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '');
  const lines = ['timestamp,value,anomaly_score,expected,lower,upper'];
  for (let i = 0; i < values.length; i++) lines.push(`${timestampText[i]},${values[i]},${f(s.score[i])},${f(s.expected[i])},${f(s.lower[i])},${f(s.upper[i])}`);
  return lines.join('\n') + '\n';
}
