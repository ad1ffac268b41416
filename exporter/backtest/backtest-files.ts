import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeFileSync } from 'node:fs';
import type { MarkSummary } from '../feedback/feedback-mark';
import { dirname, join, relative } from 'node:path';
import { Logger } from '../../common/logger';
import { backtestCsv, backtestValues, FeedbackOperator } from './backtest';
import { ExporterConfig, SignalConfig } from '../config/config';
import { isGroupHeader, readCsvSeries, readCsvTable } from './csv-series';
import { backtestGroup, groupCsv, groupForestChannels } from './backtest-group';
import { ReportSeries } from './backtest-report';

export interface BacktestFileResult {
  input: string;
  output: string;
  rows: number;
  stepSeconds: number;
  anomalous: number;
  /** Operator feedback taken in (a range backtest with alertmanager.url): kind and span of each mark. */
  feedback?: MarkSummary[];
}

/** The CSV files under `input` (itself if a file), sorted, with their paths relative to it. */
export function csvInputs(input: string): { file: string; rel: string }[] {
  if (statSync(input).isFile()) return [{ file: input, rel: input.split('/').pop() as string }];
  const out: { file: string; rel: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.toLowerCase().endsWith('.csv')) out.push({ file: p, rel: relative(input, p) });
    }
  };
  walk(input);
  return out;
}

/** Backtests every CSV under `input` into `outputDir` at the same relative paths. */
export async function backtestFiles(
  input: string,
  outputDir: string,
  config: ExporterConfig,
  signal: Pick<SignalConfig, 'direction' | 'min_deviation' | 'min_relative_deviation'> | undefined,
  logger: Logger,
  progress?: (fileIndex: number, files: number, rel: string, rowsDone: number, rows: number) => void,
  /** Collects each file's values and scores, for the HTML report. */
  report?: ReportSeries[],
  /** Someone who answers the pages of a file (bench:detect's simulated on-call), by relative path. */
  operatorFor?: (rel: string) => FeedbackOperator | undefined,
): Promise<BacktestFileResult[]> {
  const inputs = csvInputs(input);
  if (inputs.length === 0) throw new Error(`${input}: no .csv files`);
  const results: BacktestFileResult[] = [];
  for (const [k, { file, rel }] of inputs.entries()) {
    if (isGroupHeader(firstLine(file))) {
      results.push(await backtestGroupFile(file, join(outputDir, rel), config, signal, logger, (d, n) => progress?.(k, inputs.length, rel, d, n)));
      continue;
    }
    const series = readCsvSeries(file);
    if (series.outOfOrder.length) {
      logger.warn('rows not after the previous row (repeated timestamps or a step back, e.g. daylight saving); kept in file order', {
        file,
        rows: series.outOfOrder.length,
        first_lines: series.outOfOrder.slice(0, 5),
      });
    }
    const scores = await backtestValues(series.values, series.times, config, signal, {
      logger,
      onProgress: (d, n) => progress?.(k, inputs.length, rel, d, n),
      operator: operatorFor?.(rel),
    });
    const output = join(outputDir, rel);
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, backtestCsv(series.timestampText, series.values, scores));
    report?.push({ name: rel, times: series.times, values: series.values, scores });
    results.push({ input: file, output, rows: series.values.length, stepSeconds: scores.stepSeconds, anomalous: scores.score.filter((s) => s > 1).length });
  }
  return results;
}

/** The first line of a file (its CSV header), read without loading the file. */
function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8').split(/\r?\n/)[0];
  } finally {
    closeSync(fd);
  }
}

/**
 * A multi-column file (`timestamp,<metric>…[,label]`) as one group: each column a signal, with
 * the group's isolation forest over them (backtest-group.ts). Output columns:
 * `timestamp,anomaly_score,group_score,<metric>_score…`.
 */
async function backtestGroupFile(
  file: string,
  output: string,
  config: ExporterConfig,
  signal: Pick<SignalConfig, 'direction' | 'min_deviation' | 'min_relative_deviation'> | undefined,
  logger: Logger,
  progress: (rowsDone: number, rows: number) => void,
): Promise<BacktestFileResult> {
  const table = readCsvTable(file);
  if (table.outOfOrder.length)
    logger.warn('rows not after the previous row; kept in file order', { file, rows: table.outOfOrder.length, first_lines: table.outOfOrder.slice(0, 5) });
  const channels = groupForestChannels(config);
  if (table.names.length > channels)
    logger.warn(`the group forest takes the first ${channels} columns; every column is still scored alone`, { file, columns: table.names.length });
  const columns = table.names.map((name, k) => ({ name, values: table.columns[k] }));
  const scores = await backtestGroup(columns, table.times, config, signal, { logger, onProgress: progress });
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, groupCsv(table.timestampText, table.names, scores));
  let anomalous = 0;
  for (let i = 0; i < scores.score.length; i++) if (Math.max(scores.score[i], scores.group[i]) > 1) anomalous++;
  return { input: file, output, rows: table.times.length, stepSeconds: scores.stepSeconds, anomalous };
}
