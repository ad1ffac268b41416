/**
 * Config reload, the way Prometheus and Alertmanager do it: on SIGHUP, `POST /-/reload` or a
 * changed file (`--watch-config`), the file is read and validated again; a bad file is logged as
 * `file: field: reason` and the running config stays; the outcome is published as
 * `<prefix>config_last_reload_successful` and `<prefix>config_last_reload_success_timestamp_seconds`.
 * Reloads never overlap: one that arrives during another waits for it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Gauge, Registry } from 'prom-client';
import { errorMessage } from './errors';
import { Logger } from './logger';
import { Mutex } from './mutex';

export type ReloadTrigger = 'SIGHUP' | 'http' | 'watch';

export interface ReloadResult {
  ok: boolean;
  /** Why the file was refused (every problem, `file: field: reason`), when not ok. */
  error?: string;
  /** Fields that changed but take effect only after a restart. */
  needsRestart: string[];
}

/** Where a daemon's config comes from and how it is reloaded (the CLI's flags). */
export interface ReloadSource<T> {
  file: string;
  /** Reads and validates the file again (with the same command-line overrides). */
  load: () => T;
  /** Serve `POST /-/reload` (Prometheus' `--web.enable-lifecycle`). */
  lifecycle?: boolean;
  /** Look at the file every `watchIntervalMs` and reload when it changed (`--watch-config`). */
  watch?: boolean;
  watchIntervalMs?: number;
}

export interface ReloaderOptions<T> {
  file: string;
  /** Reads and validates the file (throws ConfigError on a bad one). */
  load: () => T;
  /** Puts a validated config in place; returns the changed fields it could not apply (restart needed). */
  apply: (next: T) => Promise<string[]>;
  registry: Registry;
  /** Metric prefix: `anomaly_exporter_` or `remediation_`. */
  prefix: string;
  log: Logger;
  /** Milliseconds between looks at the file when watching (default 3 s). */
  watchIntervalMs?: number;
}

export class ConfigReloader<T> {
  private readonly lock = new Mutex();
  private readonly successful: Gauge;
  private readonly successTime: Gauge;
  private watchTimer?: NodeJS.Timeout;
  /** Hash of the file content last tried (good or bad), so a watched bad file is reported once. */
  private lastSeen: string | undefined;

  constructor(private readonly opts: ReloaderOptions<T>) {
    this.successful = new Gauge({
      name: `${opts.prefix}config_last_reload_successful`,
      help: 'Whether the last configuration reload attempt was successful (1) or not (0); the first load at start counts.',
      registers: [opts.registry],
    });
    this.successTime = new Gauge({
      name: `${opts.prefix}config_last_reload_success_timestamp_seconds`,
      help: 'Unix time of the last successful configuration load or reload.',
      registers: [opts.registry],
    });
    // The process started with a valid file (an invalid one exits 2 before this exists).
    this.successful.set(1);
    this.successTime.set(Date.now() / 1000);
    this.lastSeen = fileHash(opts.file);
  }

  /** Reads the file again and applies it when valid; never throws. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    return this.lock.run(async () => {
      const { file, log } = this.opts;
      this.lastSeen = fileHash(file);
      let next: T;
      try {
        next = this.opts.load();
      } catch (err) {
        const error = errorMessage(err);
        this.successful.set(0);
        log.error('config reload failed; the running config stays', { file, trigger, error });
        return { ok: false, error, needsRestart: [] };
      }
      try {
        const needsRestart = await this.opts.apply(next);
        this.successful.set(1);
        this.successTime.set(Date.now() / 1000);
        if (needsRestart.length) log.warn('config reloaded; some changes need a restart to take effect', { file, trigger, fields: needsRestart });
        else log.info('config reloaded', { file, trigger });
        return { ok: true, needsRestart };
      } catch (err) {
        const error = errorMessage(err);
        this.successful.set(0);
        log.error('config reload failed while applying it; the running config stays', { file, trigger, error });
        return { ok: false, error, needsRestart: [] };
      }
    });
  }

  /**
   * Looks at the file every few seconds and reloads when its content changed: this follows an
   * edit in place, a rename over it and Kubernetes' ConfigMap update (a swapped `..data` symlink),
   * which file-system events alone miss.
   */
  watch(): void {
    if (this.watchTimer) return;
    this.watchTimer = setInterval(() => {
      const now = fileHash(this.opts.file);
      if (now !== undefined && now !== this.lastSeen) void this.reload('watch');
    }, this.opts.watchIntervalMs ?? 3000);
    this.watchTimer.unref();
  }

  stop(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
  }
}

function fileHash(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * The dotted paths of `fields` whose values differ between two configs: for the settings a
 * running process cannot change (a listen address, a store path), reported as "needs a restart".
 */
export function changedFields(current: object, next: object, fields: readonly string[]): string[] {
  const at = (o: object, path: string) =>
    path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
  return fields.filter((f) => JSON.stringify(at(current, f)) !== JSON.stringify(at(next, f)));
}
