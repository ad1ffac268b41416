#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, errorMessage, EXIT_CONFIG_ERROR } from '../common/errors';
import { createLogger } from '../common/logger';
import { packageVersion } from '../common/version';
import { loadConfig, overridesFromEnv } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { backtestFiles } from '../exporter/backtest/backtest-files';
import { CsvError } from '../exporter/backtest/csv-series';
import { backtestRange } from '../exporter/backtest/backtest-range';
import { renderReport, ReportSeries } from '../exporter/backtest/backtest-report';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createReader } from '../exporter/read/reader-factory';
import { parseConfig } from '../exporter/config/config';
import { startDemoService } from '../demo/demo-service';
import { loadReceiverConfig } from '../receiver/receiver-config';
import { ReceiverDaemon } from '../receiver/receiver-daemon';

const USAGE = `anomaly-exporter ${packageVersion()}: anomaly detection for Prometheus series

Usage:
  anomaly-exporter run [--config FILE] [--listen HOST:PORT] [--source-url URL]
  anomaly-exporter check [--config FILE]
  anomaly-exporter backtest --input PATH --output DIR [--config FILE] [--signal NAME] [--report FILE]
  anomaly-exporter backtest --config FILE --from RFC3339 --to RFC3339 --output DIR [--report FILE]
  anomaly-exporter receiver [--config FILE] [--listen HOST:PORT] [--check]
  anomaly-exporter demo-service [--listen HOST:PORT] [--rate RPS] [--no-load]
  anomaly-exporter <command> --help

Commands:
  run           score the configured signals on a schedule and serve /metrics
  check         validate a config file: exit 0 when good, 2 when not (errors on stderr)
  backtest      score CSV history (timestamp,value) with the live pipeline's code, offline
  receiver      the remediation receiver: Alertmanager webhook → gates → runbooks, with an audit log
  demo-service  an instrumented HTTP service with load and fault injection, for trying it out
`;

const RUN_USAGE = `Usage: anomaly-exporter run [--config FILE] [--listen HOST:PORT] [--source-url URL]

  --config FILE       config file (default anomaly-exporter.yml)
  --listen HOST:PORT  where to serve /metrics; overrides env ANOMALY_EXPORTER_LISTEN and server.listen
  --source-url URL    Prometheus-compatible API; overrides env ANOMALY_EXPORTER_SOURCE_URL and reader.url
Invalid configuration exits with code 2. SIGTERM or SIGINT stops within 5 s.
`;

const CHECK_USAGE = `Usage: anomaly-exporter check [--config FILE]

Validates FILE (default anomaly-exporter.yml). Exit 0: valid. Exit 2: each problem printed as
FILE: path.to.field: reason.
`;

const BACKTEST_USAGE = `Usage: anomaly-exporter backtest --input PATH --output DIR [--config FILE] [--signal NAME] [--report FILE]
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

const DEMO_USAGE = `Usage: anomaly-exporter demo-service [--listen HOST:PORT] [--rate RPS] [--no-load]

  --listen HOST:PORT  default 127.0.0.1:10180
  --rate RPS          requests per second per service from the built-in load generator (default 20)
  --no-load           do not generate load
Fault API: POST /faults {"service","type":"latency"|"errors"|"traffic_drop","magnitude","duration"},
DELETE /faults, GET /faults, POST /admin/restart {"service"}.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : EXIT_CONFIG_ERROR;
  }
  if (command === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  switch (command) {
    case 'run':
      return run(rest);
    case 'check':
      return check(rest);
    case 'demo-service':
      return demoService(rest);
    case 'receiver':
      return receiver(rest);
    case 'backtest':
      return backtest(rest);
    default:
      process.stderr.write(`anomaly-exporter: unknown command "${command}"\n\n${USAGE}`);
      return EXIT_CONFIG_ERROR;
  }
}

function parse<T extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>>(args: string[], options: T, usage: string) {
  try {
    const { values } = parseArgs({ args, options: { ...options, help: { type: 'boolean' } }, allowPositionals: false, strict: true });
    if ((values as Record<string, unknown>).help) {
      process.stdout.write(usage);
      return undefined;
    }
    return values as { [K in keyof T]?: T[K]['type'] extends 'string' ? string : boolean };
  } catch (err) {
    throw new UsageError(`${errorMessage(err)}\n\n${usage}`);
  }
}

class UsageError extends Error {}

async function run(args: string[]): Promise<number> {
  const v = parse(
    args,
    { config: { type: 'string', default: 'anomaly-exporter.yml' }, listen: { type: 'string' }, 'source-url': { type: 'string' } },
    RUN_USAGE,
  );
  if (!v) return 0;
  const env = overridesFromEnv(process.env);
  const config = loadConfig(v.config as string, { listen: v.listen ?? env.listen, sourceUrl: v['source-url'] ?? env.sourceUrl });
  const logger = createLogger({ level: config.logging.level, format: config.logging.format, component: 'exporter' });
  const daemon = new ExporterDaemon(config, { logger, version: packageVersion() });
  await daemon.start();
  await waitForSignal(logger, () => daemon.stop());
  return 0;
}

async function check(args: string[]): Promise<number> {
  const v = parse(args, { config: { type: 'string', default: 'anomaly-exporter.yml' } }, CHECK_USAGE);
  if (!v) return 0;
  const config = loadConfig(v.config as string);
  process.stdout.write(`${v.config}: valid (${Object.keys(config.reader.signals).length} signals: ${Object.keys(config.reader.signals).join(', ')})\n`);
  return 0;
}

async function backtest(args: string[]): Promise<number> {
  const v = parse(
    args,
    {
      input: { type: 'string' },
      output: { type: 'string' },
      config: { type: 'string' },
      signal: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      report: { type: 'string' },
    },
    BACKTEST_USAGE,
  );
  if (!v) return 0;
  if (v.from !== undefined || v.to !== undefined) return backtestPrometheus(v);
  if (!v.input || !v.output) throw new UsageError(`--input and --output are required\n\n${BACKTEST_USAGE}`);
  const config = v.config ? loadConfig(v.config) : parseConfig('reader: {url: "http://127.0.0.1:9090", signals: {value: {query: value}}}\n', '(defaults)');
  let signal;
  if (v.signal) {
    signal = config.reader.signals[v.signal];
    if (!signal)
      throw new UsageError(`--signal ${v.signal}: no such signal in ${v.config ?? 'the defaults'} (has: ${Object.keys(config.reader.signals).join(', ')})`);
  }
  const logger = createLogger({ level: 'warn', component: 'backtest' });
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
  process.stdout.write(
    `backtest: ${results.length} files, ${rows} rows, ${anomalous} rows scored above 1, ${((Date.now() - started) / 1000).toFixed(1)} s; results in ${v.output}\n`,
  );
  return 0;
}

async function backtestPrometheus(v: { config?: string; from?: string; to?: string; output?: string; input?: string; report?: string }): Promise<number> {
  if (!v.config || !v.from || !v.to || !v.output || v.input)
    throw new UsageError(`a range backtest needs --config, --from, --to and --output, and no --input\n\n${BACKTEST_USAGE}`);
  const from = Date.parse(v.from);
  const to = Date.parse(v.to);
  if (!Number.isFinite(from)) throw new UsageError(`--from: "${v.from}" is not an RFC 3339 time, e.g. 2026-11-20T00:00:00Z`);
  if (!Number.isFinite(to)) throw new UsageError(`--to: "${v.to}" is not an RFC 3339 time, e.g. 2026-11-21T00:00:00Z`);
  const config = loadConfig(v.config);
  const logger = createLogger({ level: 'warn', component: 'backtest' });
  const started = Date.now();
  const report: ReportSeries[] | undefined = v.report ? [] : undefined;
  const results = await backtestRange(
    config,
    createReader(config),
    from / 1000,
    to / 1000,
    v.output,
    logger,
    (done, total, name) => {
      if (process.stderr.isTTY && !process.env.CI) process.stderr.write(`\rsignal ${done}/${total} ${name.padEnd(30)}`);
    },
    report,
  );
  if (process.stderr.isTTY && !process.env.CI) process.stderr.write('\n');
  if (v.report && report) writeReport(v.report, report, `anomaly-exporter backtest of ${v.config}, ${v.from} to ${v.to}`);
  const rows = results.reduce((a, r) => a + r.rows, 0);
  process.stdout.write(
    `backtest: ${results.length} series, ${rows} rows, ${results.reduce((a, r) => a + r.anomalous, 0)} rows scored above 1, ${((Date.now() - started) / 1000).toFixed(1)} s; results in ${v.output}\n`,
  );
  return 0;
}

function writeReport(file: string, series: ReportSeries[], title: string): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, renderReport(series, title));
  process.stdout.write(`report: ${file}\n`);
}

const RECEIVER_USAGE = `Usage: anomaly-exporter receiver [--config FILE] [--listen HOST:PORT] [--check]

  --config FILE       receiver config (default receiver/receiver.example.yml: dry run, loopback)
  --listen HOST:PORT  overrides env REMEDIATION_RECEIVER_LISTEN and listen in the file
  --check             validate the config and exit: 0 when good, 2 when not
`;

async function receiver(args: string[]): Promise<number> {
  const v = parse(
    args,
    { config: { type: 'string', default: 'receiver/receiver.example.yml' }, listen: { type: 'string' }, check: { type: 'boolean', default: false } },
    RECEIVER_USAGE,
  );
  if (!v) return 0;
  const config = loadReceiverConfig(v.config as string, { listen: v.listen ?? (process.env.REMEDIATION_RECEIVER_LISTEN || undefined) });
  if (v.check) {
    process.stdout.write(`${v.config}: valid (mode ${config.mode}, ${config.runbooks.length} runbooks)\n`);
    return 0;
  }
  const logger = createLogger({ level: config.logging.level, format: config.logging.format, component: 'receiver' });
  const daemon = new ReceiverDaemon(config, logger);
  await daemon.start();
  await waitForSignal(logger, () => daemon.stop());
  return 0;
}

async function demoService(args: string[]): Promise<number> {
  const v = parse(
    args,
    { listen: { type: 'string', default: '127.0.0.1:10180' }, rate: { type: 'string', default: '20' }, 'no-load': { type: 'boolean', default: false } },
    DEMO_USAGE,
  );
  if (!v) return 0;
  const rate = Number(v.rate);
  if (!(rate >= 0 && rate <= 1000)) throw new UsageError('--rate must be a number from 0 to 1000');
  const logger = createLogger({ component: 'demo-service' });
  const demo = await startDemoService({ listen: v.listen as string, ratePerService: v['no-load'] ? 0 : rate, logger });
  await waitForSignal(logger, () => demo.stop());
  return 0;
}

/** Resolves after SIGTERM/SIGINT and a clean stop; forces exit if stopping takes over 5 s. */
function waitForSignal(logger: { info: (m: string, meta?: object) => unknown }, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (sig: string) => {
      logger.info('stopping', { signal: sig });
      const force = setTimeout(() => {
        process.stderr.write('anomaly-exporter: did not stop within 5 s, exiting\n');
        process.exit(1);
      }, 5000);
      force.unref();
      stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof CsvError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG_ERROR);
    }
    process.stderr.write(`anomaly-exporter: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
