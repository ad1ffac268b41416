import { existsSync } from 'node:fs';
import { FeedbackMark } from '../../exporter/feedback/feedback-mark';
import { alertmanagerClient, fetchMarks } from '../../exporter/feedback/silence-poller';
import { errorMessage } from '../../common/errors';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createLogger } from '../../common/logger';
import { backtestFiles } from '../../exporter/backtest/backtest-files';
import { backtestRange } from '../../exporter/backtest/backtest-range';
import { renderReport, ReportSeries } from '../../exporter/backtest/backtest-report';
import { loadConfig, parseConfig } from '../../exporter/config/config';
import { createReader } from '../../exporter/read/reader-factory';
import { Command, parse, UsageError } from '../command';

const USAGE = `Usage: anomaly-exporter backtest --input PATH --output DIR [--config FILE] [--signal NAME] [--report FILE]
       anomaly-exporter backtest --config FILE --from RFC3339 --to RFC3339 --output DIR [--report FILE]

  --input PATH    a CSV file with columns timestamp,value, or a directory of them (searched recursively)
  --from, --to    instead of --input: every signal of --config over this range of its Prometheus,
                  one output per series at DIR/<signal>/<labels>.csv
  --output DIR    one CSV per input at the same relative path: timestamp,value,anomaly_score,expected,lower,upper
  --config FILE   models, ensemble and scheduler (fit_every, fit_window) from this file; defaults otherwise
  --signal NAME   take direction and min_deviation from this signal of the config (default: both sides, none)
  --report FILE   also write a self-contained HTML page with a chart per series (value, band, flagged points, score)
Rows are scored in file order, one pipeline cycle per row, at the file's median interval.
`;

const OPTIONS = {
  input: { type: 'string' },
  output: { type: 'string' },
  config: { type: 'string' },
  signal: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  report: { type: 'string' },
} as const;

type BacktestArgs = { [K in keyof typeof OPTIONS]?: string };

export const backtestCommand: Command = {
  summary: "score CSV history (timestamp,value) with the live pipeline's code, offline",
  synopsis: [
    'backtest --input PATH --output DIR [--config FILE] [--signal NAME] [--report FILE]',
    'backtest --config FILE --from RFC3339 --to RFC3339 --output DIR [--report FILE]',
  ],
  async run(args) {
    const v = parse(args, OPTIONS, USAGE);
    if (!v) return 0;
    if (v.from !== undefined || v.to !== undefined) return backtestPrometheus(v);
    return backtestCsv(v);
  },
};

async function backtestCsv(v: BacktestArgs): Promise<number> {
  if (!v.input || !v.output) throw new UsageError(`--input and --output are required\n\n${USAGE}`);
  if (!existsSync(v.input)) throw new UsageError(`--input ${v.input}: no such file or directory`);
  const config = v.config ? loadConfig(v.config) : parseConfig('reader: {url: "http://127.0.0.1:9090", signals: {value: {query: value}}}\n', '(defaults)');
  let signal;
  if (v.signal) {
    signal = config.reader.signals[v.signal];
    if (!signal)
      throw new UsageError(`--signal ${v.signal}: no such signal in ${v.config ?? 'the defaults'} (has: ${Object.keys(config.reader.signals).join(', ')})`);
  }
  const logger = createLogger({ level: 'warn', format: 'cli', component: 'backtest' });
  const tty = process.stderr.isTTY && !process.env.CI;
  const started = Date.now();
  const report: ReportSeries[] | undefined = v.report ? [] : undefined;
  const results = await backtestFiles(
    v.input,
    v.output,
    config,
    signal,
    logger,
    (k, files, rel, done, rows) => {
      if (!tty) return;
      const width = 30;
      const filled = Math.round((width * (k + done / rows)) / files);
      process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] file ${k + 1}/${files} ${rel.slice(-40).padEnd(40)} ${done}/${rows} rows`);
    },
    report,
  );
  if (tty) process.stderr.write('\n');
  if (v.report && report) writeReport(v.report, report, `anomaly-exporter backtest of ${v.input}`);
  const rows = results.reduce((a, r) => a + r.rows, 0);
  const anomalous = results.reduce((a, r) => a + r.anomalous, 0);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`backtest: ${results.length} files, ${rows} rows, ${anomalous} rows scored above 1, ${seconds} s; results in ${v.output}\n`);
  return 0;
}

async function backtestPrometheus(v: BacktestArgs): Promise<number> {
  if (!v.config || !v.from || !v.to || !v.output || v.input)
    throw new UsageError(`a range backtest needs --config, --from, --to and --output, and no --input\n\n${USAGE}`);
  const from = Date.parse(v.from);
  const to = Date.parse(v.to);
  if (!Number.isFinite(from)) throw new UsageError(`--from: "${v.from}" is not an RFC 3339 time, e.g. 2026-11-20T00:00:00Z`);
  if (!Number.isFinite(to)) throw new UsageError(`--to: "${v.to}" is not an RFC 3339 time, e.g. 2026-11-21T00:00:00Z`);
  const config = loadConfig(v.config);
  const logger = createLogger({ level: 'warn', format: 'cli', component: 'backtest' });
  const tty = process.stderr.isTTY && !process.env.CI;
  const started = Date.now();
  const report: ReportSeries[] | undefined = v.report ? [] : undefined;
  // Operator feedback in Alertmanager's silences is taken in as the live exporter would.
  let marks: FeedbackMark[] = [];
  let feedbackNote = '';
  if (config.alertmanager) {
    try {
      marks = await fetchMarks(alertmanagerClient(config.alertmanager));
      feedbackNote = `; ${marks.length} feedback marks read from ${config.alertmanager.url}`;
    } catch (err) {
      logger.warn('feedback marks not read: scored without them', { url: config.alertmanager.url, error: errorMessage(err) });
      feedbackNote = `; feedback marks NOT read from ${config.alertmanager.url} (scored without them)`;
    }
  }
  const { results, failed } = await backtestRange(
    config,
    createReader(config.reader),
    from / 1000,
    to / 1000,
    v.output,
    logger,
    (done, total, name) => {
      if (tty) process.stderr.write(`\rsignal ${done}/${total} ${name.padEnd(30)}`);
    },
    report,
    marks,
  );
  if (tty) process.stderr.write('\n');
  if (v.report && report) writeReport(v.report, report, `anomaly-exporter backtest of ${v.config}, ${v.from} to ${v.to}`);
  const rows = results.reduce((a, r) => a + r.rows, 0);
  const anomalous = results.reduce((a, r) => a + r.anomalous, 0);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `backtest: ${results.length} series, ${rows} rows, ${anomalous} rows scored above 1, ${seconds} s; results in ${v.output}${feedbackNote}\n`,
  );
  for (const r of results)
    for (const m of r.feedback ?? []) process.stdout.write(`feedback: ${r.input}: ${m.kind} ${m.from} to ${m.to ?? 'open'} by ${m.by}\n`);
  // Exit 1, as for any failed run: the source refused what the config asks (exit 2 is for bad input).
  return failed.length ? 1 : 0;
}

function writeReport(file: string, series: ReportSeries[], title: string): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, renderReport(series, title));
  process.stdout.write(`report: ${file}\n`);
}
