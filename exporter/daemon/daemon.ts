import { listenOn, parseListenAddress } from '../../common/listen-address';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import cron, { ScheduledTask } from 'node-cron';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '../../common/process-metrics';
import { formatDurationMs } from '../../common/duration';
import { errorMessage } from '../../common/errors';
import { Logger } from '../../common/logger';
import { ExporterConfig } from '../config/config';
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
import { StateStore } from '../state/state-store';
import { Readiness } from './readiness';

export interface DaemonOptions {
  logger: Logger;
  version: string;
  /** Defaults to a PrometheusReader built from the config. */
  reader?: Reader;
  clock?: Clock;
}

/** Wires config → reader → pipeline → snapshot → /metrics, on a periodic runner. */
export class ExporterDaemon {
  readonly registry = new Registry();
  readonly pipeline: ScoringPipeline;
  readonly metrics: SelfMetrics;
  readonly publisher: SnapshotPublisher;
  private readonly fitPool: FitPool;
  private readonly store?: StateStore;
  private saveTimer?: NodeJS.Timeout;
  private saving = false;
  private readonly runner: PeriodicRunner;
  private server?: Server;
  private cronTask?: ScheduledTask;
  private readonly readiness = new Readiness();
  private readonly log: Logger;
  private readonly version: string;

  constructor(
    readonly config: ExporterConfig,
    opts: DaemonOptions,
  ) {
    this.log = opts.logger;
    this.version = opts.version;
    const signals = Object.keys(config.reader.signals);
    this.metrics = new SelfMetrics(this.registry, opts.version, signals, config.scheduler.infer_every / 1000);
    registerProcessMetrics(this.registry);
    const reader = opts.reader ?? createReader(config);
    tuneHeapForCycles();
    this.fitPool = new FitPool(config.models.fit_threads);
    if (config.state.dir) this.store = new StateStore(config.state.dir, this.log);
    this.pipeline = new ScoringPipeline(config, reader, this.log, this.metrics, this.fitPool);
    this.publisher = new SnapshotPublisher(() => this.pipeline.snapshot, formatDurationMs(config.scheduler.infer_every));
    const clock = opts.clock ?? systemClock;
    this.runner = new PeriodicRunner(
      async (signal) => {
        this.metrics.cycles.inc();
        const end = this.metrics.cycleDuration.startTimer();
        const report = await this.pipeline.runOnce(new Date(clock.now()), signal);
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
            groupBy: this.config.reader.group_by,
            refreshSeconds: Math.max(5, Math.round(this.config.scheduler.infer_every / 1000)),
            filter,
          }),
      },
      this.config.server.allowed_hosts,
    );
    const { host, port } = parseListenAddress(this.config.server.listen, '0.0.0.0');
    this.server = await listenOn(app, host, port, 'exporter');
    const address = this.server.address() as AddressInfo;
    await this.restoreState();
    this.runner.start();
    if (this.store) {
      this.saveTimer = setInterval(() => void this.saveState(), this.config.state.save_every);
      this.saveTimer.unref();
    }
    if (this.config.scheduler.fit_cron) {
      this.cronTask = cron.schedule(this.config.scheduler.fit_cron, () => this.pipeline.requestFit(), {
        timezone: this.config.scheduler.timezone,
        name: 'fit_cron',
      });
    }
    this.log.info('exporter started', {
      listen: `${address.address}:${address.port}`,
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
  }

  /** Saves every signal's model state (atomic per file). Never throws: a failed save is logged. */
  async saveState(): Promise<void> {
    if (!this.store || this.saving) return;
    this.saving = true;
    const started = performance.now();
    try {
      for (const s of this.pipeline.exportState()) await this.store.save(s);
      this.log.debug('model state saved', { dir: this.store.dir, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });
    } catch (err) {
      this.log.error('saving model state failed', { dir: this.store.dir, error: errorMessage(err) });
    } finally {
      this.saving = false;
    }
  }

  async stop(): Promise<void> {
    await this.cronTask?.stop();
    if (this.saveTimer) clearInterval(this.saveTimer);
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
