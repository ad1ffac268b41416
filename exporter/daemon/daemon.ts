import { parseListenAddress } from '../../common/listen-address';
import { WebServing } from '../../common/web-server';
import { Server } from 'node:http';
import { hostname } from 'node:os';
import { AddressInfo } from 'node:net';
import cron, { ScheduledTask } from 'node-cron';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '../../common/process-metrics';
import { formatDurationMs } from '../../common/duration';
import { errorMessage } from '../../common/errors';
import { Logger } from '../../common/logger';
import { ExporterConfig, shardSpec } from '../config/config';
import { FitPool } from '../fit/fit-pool';
import { incidentsDocument } from '../publish/incidents-api';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { Clock, PeriodicRunner, systemClock } from './periodic-runner';
import { Reader } from '../read/reader';
import { createReader } from '../read/reader-factory';
import { SelfMetrics } from '../publish/self-metrics';
import { createExporterApp } from '../publish/server';
import { SnapshotPublisher } from '../publish/snapshot-publisher';
import { tuneHeapForCycles } from './heap-tuning';
import { renderExporterPage } from '../publish/web-page';
import { renderAnalyzePage } from '../publish/analyze-page';
import { analyzeRouter, anyQueryAllowed, MAX_POINTS } from '../analyze/analyze-api';
import { renderRunbooksPage } from '../publish/runbooks-page';
import { StateStore } from '../state/state-store';
import { Shard } from '../shard/shard';
import { Readiness } from './readiness';
import { changedFields, ConfigReloader, ReloadSource } from '../../common/config-reload';
import { Mutex } from '../../common/mutex';
import { SilencePoller } from '../feedback/silence-poller';

export interface DaemonOptions {
  logger: Logger;
  version: string;
  /** Defaults to a PrometheusReader built from the config. */
  reader?: Reader;
  clock?: Clock;
  /** `--web.config.file`: TLS and basic auth in exporter-toolkit's format (re-read on every reload). */
  webConfigFile?: string;
  /** Where the config comes from, for reloads (SIGHUP, `/-/reload`, `--watch-config`). */
  reload?: ReloadSource<ExporterConfig>;
}

/**
 * Settings a running exporter cannot change: a reload that changes them keeps the running value
 * and says a restart is needed (as Prometheus does for its listen address).
 */
const RESTART_FIELDS = ['server.listen', 'state.dir', 'models.fit_threads', 'logging.format', 'sharding'] as const;

/** Wires config → reader → pipeline → snapshot → /metrics, on a periodic runner. */
export class ExporterDaemon {
  readonly registry = new Registry();
  private running: ScoringPipeline;
  private current: ExporterConfig;
  /** Held by a cycle while it runs and by a reload while it swaps the pipeline: never both. */
  private readonly cycleLock = new Mutex();
  readonly reloader?: ConfigReloader<ExporterConfig>;
  readonly metrics: SelfMetrics;
  readonly publisher: SnapshotPublisher;
  private readonly fitPool: FitPool;
  private readonly store?: StateStore;
  private saveTimer?: NodeJS.Timeout;
  /** Operator feedback from Alertmanager's silences (alertmanager.url; idle when unset). */
  private readonly silences: SilencePoller;
  private saving = false;
  private readonly runner: PeriodicRunner;
  private server?: Server;
  private cronTask?: ScheduledTask;
  private readonly readiness = new Readiness();
  private readonly web: WebServing;
  private boundPort = 0;
  /** The running config's reader (the Analyse page reads with it too). */
  private reader: Reader;
  private readonly log: Logger;
  private readonly version: string;

  constructor(
    config: ExporterConfig,
    private readonly opts: DaemonOptions,
  ) {
    this.current = config;
    this.web = new WebServing(opts.webConfigFile);
    this.log = opts.logger;
    this.version = opts.version;
    const signals = Object.keys(config.reader.signals);
    this.metrics = new SelfMetrics(this.registry, opts.version, signals, config.scheduler.infer_every / 1000, signalUnits(config));
    registerProcessMetrics(this.registry);
    const reader = opts.reader ?? createReader(config.reader);
    this.reader = reader;
    tuneHeapForCycles();
    this.fitPool = new FitPool(config.models.fit_threads);
    if (config.state.dir) this.store = new StateStore(config.state.dir, this.log, new Shard(shardSpec(config), config.reader.group_by));
    this.running = new ScoringPipeline(config, reader, this.log, this.metrics, this.fitPool);
    this.silences = new SilencePoller(
      () => this.config.alertmanager,
      () => this.pipeline.feedback,
      this.log,
      this.metrics,
    );
    this.publisher = new SnapshotPublisher(() => this.pipeline.snapshot, formatDurationMs(config.scheduler.infer_every));
    const clock = opts.clock ?? systemClock;
    this.runner = new PeriodicRunner(
      async (signal, _scheduledAt, deadline) => {
        this.metrics.cycles.inc();
        const end = this.metrics.cycleDuration.startTimer();
        const report = await this.cycleLock.run(() => {
          const now = new Date(clock.now());
          // A refit reads a whole fit window and fits: it gets fit_timeout, so a cold start at
          // scale is not cut by the infer cycle's timeout and redone over and over.
          if (this.pipeline.refitsAt(now)) deadline.setTimeoutMs(this.current.scheduler.fit_timeout);
          return this.pipeline.runOnce(now, signal);
        });
        end();
        this.readiness.record(report);
        const failed = Object.entries(report.signals).filter(([, r]) => !r.ok);
        this.log.log(failed.length ? 'warn' : 'debug', 'cycle done', {
          duration_seconds: Number(report.durationSeconds.toFixed(3)),
          source_up: report.sourceUp,
          series: Object.values(report.signals).reduce((a, r) => a + r.series, 0),
          fitted: Object.entries(report.signals)
            .filter(([, r]) => r.fitted)
            .map(([n]) => n),
          failed: failed.map(([n, r]) => ({ signal: n, error: r.error })),
        });
      },
      {
        intervalMs: config.scheduler.infer_every,
        timeoutMs: config.scheduler.cycle_timeout ?? config.scheduler.infer_every,
        clock,
        onRunEnd: (o) => {
          if (o.timedOut) {
            this.metrics.cycleTimeouts.inc();
            this.log.warn('cycle cut by its timeout; in-flight queries aborted', { duration_ms: o.durationMs });
          }
          if (o.error) this.log.error('cycle failed', { error: errorMessage(o.error) });
        },
      },
    );
    if (opts.reload) {
      const r = opts.reload;
      this.reloader = new ConfigReloader({
        file: r.file,
        load: r.load,
        apply: (next) => this.applyConfig(next),
        registry: this.registry,
        prefix: 'anomaly_exporter_',
        log: this.log,
        watchIntervalMs: r.watchIntervalMs,
      });
    }
  }

  get config(): ExporterConfig {
    return this.current;
  }

  get pipeline(): ScoringPipeline {
    return this.running;
  }

  /**
   * Puts a validated config in place between two cycles: a new pipeline takes over what did not
   * change (see ScoringPipeline.adopt), timing, cron, self-metrics and log level follow. Returns
   * the changed settings that need a restart (their running values stay).
   */
  async applyConfig(wanted: ExporterConfig): Promise<string[]> {
    const before = this.current;
    // The web config is checked first: a bad one fails the reload before anything changed.
    const web = this.web.prepareReload();
    const needsRestart = [...web.needsRestart, ...changedFields(before, wanted, RESTART_FIELDS)];
    const next: ExporterConfig = {
      ...wanted,
      server: { ...wanted.server, listen: before.server.listen },
      state: { ...wanted.state, dir: before.state.dir },
      models: { ...wanted.models, fit_threads: before.models.fit_threads },
      logging: { ...wanted.logging, format: before.logging.format },
      sharding: before.sharding,
    };
    const reader = this.opts.reader ?? createReader(next.reader);
    this.reader = reader;
    web.commit();
    const adopted = await this.cycleLock.run(() => {
      this.running = new ScoringPipeline(next, reader, this.log, this.metrics, this.fitPool, this.running);
      this.current = next;
      return this.running.adopted!;
    });
    const signals = Object.keys(next.reader.signals);
    this.metrics.setSignals(signals, signalUnits(next));
    this.metrics.inferInterval.set(next.scheduler.infer_every / 1000);
    this.readiness.keepOnly(signals);
    this.runner.retime(next.scheduler.infer_every, next.scheduler.cycle_timeout ?? next.scheduler.infer_every);
    this.publisher.setInterval(formatDurationMs(next.scheduler.infer_every));
    this.log.level = next.logging.level;
    this.metrics.setExternalUrl(this.externalUrl());
    const shard = shardSpec(this.config);
    this.metrics.shardInfo.reset();
    this.metrics.shardInfo.set({ index: String(shard.index), count: String(shard.count) }, 1);
    if (next.scheduler.fit_cron !== before.scheduler.fit_cron || next.scheduler.timezone !== before.scheduler.timezone) {
      await this.cronTask?.stop();
      this.cronTask = undefined;
      this.scheduleFitCron();
    }
    if (this.store && next.state.save_every !== before.state.save_every) {
      if (this.saveTimer) clearInterval(this.saveTimer);
      this.startSaveTimer();
    }
    this.log.info('signals after reload', { kept: adopted.kept, models_restored: adopted.restored, fresh: adopted.fresh });
    return needsRestart;
  }

  /** server.external_url, or http://<this host's name>:<port> when it is not set. */
  private externalUrl(): string {
    return this.config.server.external_url ?? `${this.web.scheme}://${hostname()}:${this.boundPort}`;
  }

  private scheduleFitCron(): void {
    const expr = this.current.scheduler.fit_cron;
    if (!expr) return;
    this.cronTask = cron.schedule(expr, () => this.pipeline.requestFit(), { timezone: this.current.scheduler.timezone, name: 'fit_cron' });
  }

  private startSaveTimer(): void {
    this.saveTimer = setInterval(() => void this.saveState(), this.current.state.save_every);
    this.saveTimer.unref();
  }

  /** Listens on `server.listen` (port 0 picks a free one) and starts scoring. */
  async start(): Promise<AddressInfo> {
    const app = createExporterApp(
      this.registry,
      {
        notReady: () => this.readiness.problem(),
        snapshotBody: () => this.publisher.render(),
        incidents: () => incidentsDocument(this.pipeline.snapshot),
        page: (filter) =>
          renderExporterPage({
            snapshot: this.pipeline.snapshot,
            historyOf: (r) => this.pipeline.historyOf(r),
            description: { signals: Object.keys(this.config.reader.signals), source: this.config.reader.url, version: this.version },
            units: signalUnits(this.config),
            historySpanSeconds: (this.config.server.history_samples * this.config.scheduler.step) / 1000,
            groupBy: this.config.reader.group_by,
            refreshSeconds: Math.max(5, Math.round(this.config.scheduler.infer_every / 1000)),
            filter,
            marks: this.pipeline.feedback.all,
          }),
      },
      {
        allowedHosts: () => this.config.server.allowed_hosts,
        reload: this.reloader && this.opts.reload?.lifecycle ? () => this.reloader!.reload('http') : undefined,
        guard: this.web.guard(),
        runbooks: () => renderRunbooksPage(this.version),
        analyze: {
          router: analyzeRouter({ config: () => this.config, reader: () => this.reader, log: this.log, marks: () => this.pipeline.feedback.all }),
          page: () =>
            renderAnalyzePage({
              signals: this.config.reader.signals,
              version: this.version,
              source: this.config.reader.url,
              stepSeconds: this.config.scheduler.step / 1000,
              anyQuery: anyQueryAllowed(this.config),
              maxPoints: MAX_POINTS,
            }),
        },
      },
    );
    const { host, port } = parseListenAddress(this.config.server.listen, '0.0.0.0');
    this.server = await this.web.listen(app, host, port, 'exporter');
    const address = this.server.address() as AddressInfo;
    this.boundPort = address.port;
    this.metrics.setExternalUrl(this.externalUrl());
    const shard = shardSpec(this.config);
    this.metrics.shardInfo.reset();
    this.metrics.shardInfo.set({ index: String(shard.index), count: String(shard.count) }, 1);
    await this.restoreState();
    this.silences.start();
    this.runner.start();
    if (this.store) this.startSaveTimer();
    this.scheduleFitCron();
    if (this.opts.reload?.watch) this.reloader?.watch();
    this.log.info('exporter started', {
      listen: `${address.address}:${address.port}`,
      scheme: this.web.scheme,
      basic_auth: Object.keys(this.web.config?.users ?? {}).length > 0,
      source: this.config.reader.url,
      signals: Object.keys(this.config.reader.signals),
      fit_threads: this.fitPool.size,
    });
    return address;
  }

  /** Loads saved model state, signal by signal; anything unusable is logged and skipped. */
  private async restoreState(): Promise<void> {
    if (!this.store) return;
    this.store.cleanTemporary();
    for (const signal of Object.keys(this.config.reader.signals)) {
      const { signalHash, detectorHashes } = this.pipeline.stateHashes(signal);
      const saved = await this.store.load(signal, signalHash, detectorHashes);
      if (saved) this.log.info('model state restored', { signal, series: this.pipeline.restoreState(saved) });
    }
    try {
      const marks = this.pipeline.feedback.load(this.store.dir);
      if (marks) this.log.info('feedback marks restored', { marks });
    } catch (err) {
      this.log.warn('feedback marks not restored', { error: errorMessage(err) });
    }
    const groupsHash = this.pipeline.groupForestsHash;
    if (groupsHash !== undefined) {
      const groups = await this.store.loadGroups(groupsHash);
      if (groups.length) this.log.info('group forests restored', { groups: this.pipeline.restoreGroupForests(groups) });
    }
  }

  /** Saves every signal's model state (atomic per file). Never throws: a failed save is logged. */
  async saveState(): Promise<void> {
    if (!this.store || this.saving) return;
    this.saving = true;
    const started = performance.now();
    try {
      for (const s of this.pipeline.exportState()) await this.store.save(s);
      const groupsHash = this.pipeline.groupForestsHash;
      if (groupsHash !== undefined) await this.store.saveGroups(this.pipeline.exportGroupForests(), groupsHash);
      this.pipeline.feedback.save(this.store.dir);
      this.log.debug('model state saved', { dir: this.store.dir, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });
    } catch (err) {
      this.log.error('saving model state failed', { dir: this.store.dir, error: errorMessage(err) });
    } finally {
      this.saving = false;
    }
  }

  async stop(): Promise<void> {
    this.reloader?.stop();
    await this.cronTask?.stop();
    if (this.saveTimer) clearInterval(this.saveTimer);
    await this.silences.stop();
    await this.runner.stop();
    await this.saveState();
    await this.fitPool.close();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.log.info('exporter stopped');
  }
}

/** Each signal's configured unit (undefined: none). */
function signalUnits(config: ExporterConfig): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(config.reader.signals).map(([name, s]) => [name, s.unit]));
}
