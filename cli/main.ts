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

// A command that leaves nothing for the event loop to wait on before it settles (an unref()'d
// timer was its only work) would end the process with exit 0 and no word: say so, and fail.
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  process.stderr.write('anomaly-exporter: the command stopped before it finished (nothing left to wait on): this is a bug, please report it\n');
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exit(code);
  },
  (err) => {
    settled = true;
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof CsvError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG_ERROR);
    }
    process.stderr.write(`anomaly-exporter: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
