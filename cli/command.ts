/**
 * What every CLI command shares: its shape, argument parsing with a usage text on error or
 * --help, the usage error (exit 2) and the wait for SIGTERM/SIGINT that stops a daemon cleanly.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../common/errors';

export interface Command {
  /** The line after the command's name in `anomaly-exporter --help`. */
  summary: string;
  /** Its synopsis lines in `anomaly-exporter --help`. */
  synopsis: string[];
  /** Runs it; resolves with the exit code. */
  run(args: string[]): Promise<number>;
}

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>;

/** The parsed options, or undefined after printing `usage` for --help. */
export function parse<T extends OptionSpec>(args: string[], options: T, usage: string) {
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

/** Resolves after SIGTERM/SIGINT and a clean stop; forces exit if stopping takes over 5 s. */
export function waitForSignal(logger: { info: (m: string, meta?: object) => unknown }, stop: () => Promise<void>): Promise<void> {
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

/** SIGHUP reloads the config, as for Prometheus and Alertmanager (the outcome is logged). */
export function reloadOnSighup(reload: () => Promise<unknown>): void {
  process.on('SIGHUP', () => void reload());
}

/** The reload and web flags both daemons share, with their usage lines. */
export const DAEMON_FLAGS = {
  'web.enable-lifecycle': { type: 'boolean', default: false },
  'watch-config': { type: 'boolean', default: false },
  'web.config.file': { type: 'string' },
} as const;

export const DAEMON_FLAGS_USAGE = `  --web.enable-lifecycle  serve POST /-/reload (SIGHUP always reloads)
  --watch-config          reload when the config file changes (edits, renames, ConfigMap updates)
  --web.config.file FILE  TLS and basic auth, in exporter-toolkit's format (re-read on reload)
`;
