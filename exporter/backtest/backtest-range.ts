import { errorMessage } from '../../common/errors';
import { FeedbackMark, markMatches, markSummary } from '../feedback/feedback-mark';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Logger } from '../../common/logger';
import { BacktestScores, backtestCsv, backtestValues } from './backtest';
import { BacktestFileResult } from './backtest-files';
import { ReportSeries } from './backtest-report';
import { ExporterConfig, SignalConfig } from '../config/config';
import { Reader } from '../read/reader';

/** A file name for a series from its labels, e.g. `instance=10.0.0.1_9100,service=checkout.csv`. */
export function seriesFileName(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return 'series.csv';
  return `${keys
    .map((k) => `${k}=${labels[k]}`)
    .join(',')
    .replace(/[^A-Za-z0-9=,._-]/g, '_')
    .slice(0, 200)}.csv`;
}

/** One series of a range analysis: its samples and the live pipeline's scores for them. */
export interface RangeSeriesScores {
  labels: Record<string, string>;
  timestamps: Float64Array;
  values: Float64Array;
  scores: BacktestScores;
  /** The operator feedback marks about this series that were taken in (their spans). */
  marks: FeedbackMark[];
}

/** The step-aligned range a config's step makes of [from, to]; throws when it is under one step. */
export function alignedRange(config: ExporterConfig, fromSeconds: number, toSeconds: number): { start: number; end: number; step: number } {
  const step = config.scheduler.step / 1000;
  const start = Math.ceil(fromSeconds / step) * step;
  const end = Math.floor(toSeconds / step) * step;
  if (!(end > start)) throw new Error('--to must be at least one step after --from');
  return { start, end, step };
}

/**
 * Reads one query over a range and scores every series with the live pipeline's code (as the
 * CSV backtest does), one series at a time: what `backtest --from --to` writes and what the
 * exporter's Analyse page shows. Series without a finite value are left out.
 */
export async function* scoreRange(
  config: ExporterConfig,
  reader: Reader,
  query: { name: string; query: string; signal: Pick<SignalConfig, 'direction' | 'min_deviation' | 'min_relative_deviation'> },
  range: { start: number; end: number; step: number },
  opts: {
    logger?: Logger;
    abort?: AbortSignal;
    onRead?: (series: number) => void;
    maxSeries?: number;
    limitName?: string;
    /** Operator feedback (the exporter's marks, or Alertmanager's silences): each series takes in those about it. */
    marks?: readonly FeedbackMark[];
  } = {},
): AsyncGenerator<RangeSeriesScores> {
  const abort = opts.abort ?? new AbortController().signal;
  const series = await reader.queryRange(
    {
      signal: query.name,
      query: query.query,
      startSeconds: range.start,
      endSeconds: range.end,
      stepSeconds: range.step,
      maxSeries: opts.maxSeries,
      limitName: opts.limitName,
    },
    abort,
  );
  opts.onRead?.(series.length);
  for (const s of series) {
    if (abort.aborted) return;
    if (!s.values.some(Number.isFinite)) continue;
    const published = { ...s.labels, signal: query.name };
    const first = s.timestamps[0];
    const last = s.timestamps[s.timestamps.length - 1];
    const marks = (opts.marks ?? []).filter((m) => markMatches(m, published) && m.toSeconds >= first && m.fromSeconds <= last);
    const scores = await backtestValues(s.values, s.timestamps, config, query.signal, { logger: opts.logger, marks });
    yield { labels: s.labels, timestamps: s.timestamps, values: s.values, scores, marks };
  }
}

/**
 * Backtests every signal of a config over a Prometheus range: each series of each signal goes
 * through the live pipeline's code as in the CSV backtest, into `<output>/<signal>/<labels>.csv`.
 */
export async function backtestRange(
  config: ExporterConfig,
  reader: Reader,
  fromSeconds: number,
  toSeconds: number,
  outputDir: string,
  logger: Logger,
  progress?: (done: number, total: number, name: string) => void,
  report?: ReportSeries[],
  marks?: readonly FeedbackMark[],
): Promise<{ results: BacktestFileResult[]; failed: string[] }> {
  const range = alignedRange(config, fromSeconds, toSeconds);
  const step = range.step;
  const results: BacktestFileResult[] = [];
  const failed: string[] = [];
  const signals = Object.entries(config.reader.signals);
  for (const [k, [name, signal]] of signals.entries()) {
    try {
      for await (const s of scoreRange(config, reader, { name, query: signal.query, signal }, range, { logger, marks })) {
        const output = join(outputDir, name, seriesFileName(s.labels));
        mkdirSync(dirname(output), { recursive: true });
        const text = Array.from(s.timestamps, (t) => new Date(t * 1000).toISOString());
        writeFileSync(output, backtestCsv(text, s.values, s.scores));
        report?.push({ name: `${name}/${seriesFileName(s.labels).replace(/\.csv$/, '')}`, times: s.timestamps, values: s.values, scores: s.scores });
        results.push({
          input: `${name} ${JSON.stringify(s.labels)}`,
          output,
          rows: s.values.length,
          stepSeconds: step,
          anomalous: s.scores.score.filter((v) => v > 1).length,
          ...(s.marks.length ? { feedback: s.marks.map(markSummary) } : {}),
        });
      }
    } catch (err) {
      // One refused or failed query costs its signal only; the others are still backtested.
      logger.error('signal skipped: its query failed', { signal: name, error: errorMessage(err) });
      failed.push(name);
    }
    progress?.(k + 1, signals.length, name);
  }
  return { results, failed };
}
