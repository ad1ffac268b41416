import { errorMessage } from '../../common/errors';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Logger } from '../../common/logger';
import { backtestCsv, backtestValues } from './backtest';
import { BacktestFileResult } from './backtest-files';
import { ReportSeries } from './backtest-report';
import { ExporterConfig } from '../config/config';
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
): Promise<{ results: BacktestFileResult[]; failed: string[] }> {
  const step = config.scheduler.step / 1000;
  const start = Math.ceil(fromSeconds / step) * step;
  const end = Math.floor(toSeconds / step) * step;
  if (!(end > start)) throw new Error('--to must be at least one step after --from');
  const results: BacktestFileResult[] = [];
  const failed: string[] = [];
  const signals = Object.entries(config.reader.signals);
  for (const [k, [name, signal]] of signals.entries()) {
    let series;
    try {
      series = await reader.queryRange(
        { signal: name, query: signal.query, startSeconds: start, endSeconds: end, stepSeconds: step },
        new AbortController().signal,
      );
    } catch (err) {
      // One refused or failed query costs its signal only; the others are still backtested.
      logger.error('signal skipped: its query failed', { signal: name, error: errorMessage(err) });
      failed.push(name);
      progress?.(k + 1, signals.length, name);
      continue;
    }
    logger.info('backtest signal', { signal: name, series: series.length });
    for (const s of series) {
      const finite = s.values.filter(Number.isFinite).length;
      if (finite === 0) continue;
      const scores = await backtestValues(s.values, s.timestamps, config, signal, { logger });
      const output = join(outputDir, name, seriesFileName(s.labels));
      mkdirSync(dirname(output), { recursive: true });
      const text = Array.from(s.timestamps, (t) => new Date(t * 1000).toISOString());
      writeFileSync(output, backtestCsv(text, s.values, scores));
      report?.push({ name: `${name}/${seriesFileName(s.labels).replace(/\.csv$/, '')}`, times: s.timestamps, values: s.values, scores });
      results.push({
        input: `${name} ${JSON.stringify(s.labels)}`,
        output,
        rows: s.values.length,
        stepSeconds: step,
        anomalous: scores.score.filter((v) => v > 1).length,
      });
    }
    progress?.(k + 1, signals.length, name);
  }
  return { results, failed };
}
