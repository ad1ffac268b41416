import winston from 'winston';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type Logger = winston.Logger;

/**
 * Structured JSON logs on stderr (stdout stays free for command output such as `check`).
 * `format: text` is a human-readable single line for terminals.
 */
export function createLogger(opts: { level?: LogLevel; format?: 'json' | 'text' | 'cli'; component?: string; silent?: boolean } = {}): Logger {
  const format =
    opts.format === 'cli'
      ? // One-shot commands (backtest): plain lines like their errors, `backtest: warning: query failed: signal=… error="…"`.
        winston.format.printf(({ level, message, component, ...rest }) => {
          const extra = Object.entries(rest)
            .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`)
            .join(' ');
          return `${String(component ?? 'anomaly-exporter')}: ${level === 'warn' ? 'warning' : level}: ${String(message)}${extra ? `: ${extra}` : ''}`;
        })
      : opts.format === 'text'
        ? winston.format.combine(
            winston.format.timestamp(),
            winston.format.printf(({ timestamp, level, message, ...rest }) => {
              const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
              return `${String(timestamp)} ${level} ${String(message)}${extra}`;
            }),
          )
        : winston.format.combine(winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level: opts.level ?? 'info',
    format,
    defaultMeta: opts.component ? { component: opts.component } : undefined,
    silent: opts.silent ?? false,
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose', 'silly'] })],
  });
}

/** A logger that drops everything, for tests and benchmarks. */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
