#!/usr/bin/env node
/** The one entry point: `anomaly-exporter <command>`; each command lives in commands/. */
import { ConfigError, errorMessage, EXIT_CONFIG_ERROR } from '../common/errors';
import { packageVersion } from '../common/version';
import { CsvError } from '../exporter/backtest/csv-series';
import { UsageError } from './command';
import { COMMANDS } from './commands';

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const synopsis = Object.values(COMMANDS)
    .flatMap((c) => c.synopsis)
    .map((s) => `  anomaly-exporter ${s}\n`)
    .join('');
  const summaries = names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n].summary}\n`).join('');
  return `anomaly-exporter ${packageVersion()}: anomaly detection for Prometheus series

Usage:
${synopsis}  anomaly-exporter <command> --help

Commands:
${summaries}`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return command ? 0 : EXIT_CONFIG_ERROR;
  }
  if (command === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const cmd = Object.prototype.hasOwnProperty.call(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!cmd) {
    process.stderr.write(`anomaly-exporter: unknown command "${command}"\n\n${usage()}`);
    return EXIT_CONFIG_ERROR;
  }
  return cmd.run(rest);
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
