/**
 * The exporter daemon: the composition root. It builds the parts from the config and wires them
 * (reader → pipeline → snapshot → /metrics on a periodic runner; the state keeper, the fit cron,
 * the silence poller, the web server), starts them in order, hands a reload to each part, and
 * stops them in reverse. What each part does is in its own module.
 */
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { ConfigReloader, ReloadSource } from '../../common/config-reload';
import { formatDurationMs } from '../../common/duration';
import { Logger } from '../../common/logger';
import { Mutex } from '../../common/mutex';
import { registerProcessMetrics } from '../../common/process-metrics';
import { WebServing } from '../../common/web-server';
import { analyzeRouter, anyQueryAllowed, MAX_POINTS } from '../analyze/analyze-api';
import { ExporterConfig, reloadedConfig, shardSpec } from '../config/config';
import { FitCron } from '../cycle/fit-cron';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { SilencePoller } from '../feedback/silence-poller';
import { FitPool } from '../fit/fit-pool';
import { renderAnalyzePage } from '../publish/analyze-page';
import { ExporterWeb } from '../publish/exporter-web';
import { incidentsDocument } from '../publish/incidents-api';
import { renderRunbooksPage } from '../publish/runbooks-page';
import { SelfMetrics } from '../publish/self-metrics';
import { createExporterApp } from '../publish/server';
import { SnapshotPublisher } from '../publish/snapshot-publisher';
import { renderExporterPage } from '../publish/web-page';
import { Reader } from '../read/reader';
import { createReader } from '../read/reader-factory';
import { StateKeeper } from '../state/state-keeper';
import { cycleEnd, cycleJob } from './cycle-job';
import { tuneHeapForCycles } from './heap-tuning';
import { Clock, PeriodicRunner, systemClock } from './periodic-runner';
import { Readiness } from './readiness';

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

export class ExporterDaemon {
  readonly registry = new Registry();
  readonly metrics: SelfMetrics;
  readonly publisher: SnapshotPublisher;
  readonly reloader?: ConfigReloader<ExporterConfig>;
  private current: ExporterConfig;
  private running: ScoringPipeline;
  /** The running config's reader (the Analyse page reads with it too). */
  private reader: Reader;
  /** Held by a cycle while it runs and by a reload while it swaps the pipeline: never both. */
  private readonly cycleLock = new Mutex();
  private readonly readiness = new Readiness();
  private readonly fitPool: FitPool;
  private readonly state: StateKeeper;
  private readonly fitCron: FitCron;
  /** Operator feedback from Alertmanager's silences (alertmanager.url; idle when unset). */
  private readonly silences: SilencePoller;
  private readonly runner: PeriodicRunner;
  private readonly web: ExporterWeb;
  private readonly log: Logger;

  constructor(
    config: ExporterConfig,
    private readonly opts: DaemonOptions,
  ) {
    this.current = config;
    this.log = opts.logger;
    this.web = new ExporterWeb(new WebServing(opts.webConfigFile));
    this.metrics = new SelfMetrics(this.registry, opts.version, Object.keys(config.reader.signals), config.scheduler.infer_every / 1000, signalUnits(config));
    registerProcessMetrics(this.registry);
    this.reader = opts.reader ?? createReader(config.reader);
    tuneHeapForCycles();
    this.fitPool = new FitPool(config.models.fit_threads);
    this.running = new ScoringPipeline(config, this.reader, this.log, this.metrics, this.fitPool);
    this.state = new StateKeeper(config, () => this.pipeline, this.log);
    this.fitCron = new FitCron(() => this.pipeline.requestFit());
    this.silences = new SilencePoller(
      () => this.config.alertmanager,
      () => this.pipeline.feedback,
      this.log,
      this.metrics,
    );
    this.publisher = new SnapshotPublisher(() => this.pipeline.snapshot, formatDurationMs(config.scheduler.infer_every));
    const clock = opts.clock ?? systemClock;
    this.runner = new PeriodicRunner(
      cycleJob({
        pipeline: () => this.pipeline,
        config: () => this.config,
        lock: this.cycleLock,
        metrics: this.metrics,
        readiness: this.readiness,
        log: this.log,
        clock,
      }),
      {
        intervalMs: config.scheduler.infer_every,
        timeoutMs: config.scheduler.cycle_timeout ?? config.scheduler.infer_every,
        clock,
        onRunEnd: cycleEnd(this.metrics, this.log),
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
   * change (ScoringPipeline.adopt), and each part follows the new config. Returns the changed
   * settings that need a restart (their running values stay: reloadedConfig).
   */
  async applyConfig(wanted: ExporterConfig): Promise<string[]> {
    // The web config is checked first: a bad one fails the reload before anything changed.
    const web = this.web.serving.prepareReload();
    const { next, needsRestart } = reloadedConfig(this.current, wanted);
    const reader = this.opts.reader ?? createReader(next.reader);
    this.reader = reader;
    web.commit();
    const adopted = await this.cycleLock.run(() => {
      this.running = new ScoringPipeline(next, reader, this.log, this.metrics, this.fitPool, this.running);
      this.current = next;
      return this.running.adopted!;
    });
    this.followConfig();
    await this.fitCron.schedule(next.scheduler.fit_cron, next.scheduler.timezone);
    this.state.schedule(next);
    this.log.info('signals after reload', { kept: adopted.kept, models_restored: adopted.restored, fresh: adopted.fresh });
    return [...web.needsRestart, ...needsRestart];
  }

  /** What follows the running config in place: self-metrics, readiness, the runner's timing, the log level. */
  private followConfig(): void {
    const c = this.current;
    const signals = Object.keys(c.reader.signals);
    this.metrics.setSignals(signals, signalUnits(c));
    this.metrics.inferInterval.set(c.scheduler.infer_every / 1000);
    this.metrics.setExternalUrl(this.web.externalUrl(c.server.external_url));
    const shard = shardSpec(c);
    this.metrics.shardInfo.reset();
    this.metrics.shardInfo.set({ index: String(shard.index), count: String(shard.count) }, 1);
    this.readiness.keepOnly(signals);
    this.runner.retime(c.scheduler.infer_every, c.scheduler.cycle_timeout ?? c.scheduler.infer_every);
    this.publisher.setInterval(formatDurationMs(c.scheduler.infer_every));
    this.log.level = c.logging.level;
  }

  /** The HTTP surface: /metrics, the pages, the incidents and Analyse APIs, /-/reload. */
  private app() {
    return createExporterApp(
      this.registry,
      {
        notReady: () => this.readiness.problem(),
        snapshotBody: () => this.publisher.render(),
        incidents: () => incidentsDocument(this.pipeline.snapshot),
        page: (filter) =>
          renderExporterPage({
            snapshot: this.pipeline.snapshot,
            historyOf: (r) => this.pipeline.historyOf(r),
            description: { signals: Object.keys(this.config.reader.signals), source: this.config.reader.url, version: this.opts.version },
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
        guard: this.web.serving.guard(),
        runbooks: () => renderRunbooksPage(this.opts.version),
        analyze: {
          router: analyzeRouter({ config: () => this.config, reader: () => this.reader, log: this.log, marks: () => this.pipeline.feedback.all }),
          page: () =>
            renderAnalyzePage({
              signals: this.config.reader.signals,
              version: this.opts.version,
              source: this.config.reader.url,
              stepSeconds: this.config.scheduler.step / 1000,
              anyQuery: anyQueryAllowed(this.config),
              maxPoints: MAX_POINTS,
            }),
        },
      },
    );
  }

  /** Listens on `server.listen` (port 0 picks a free one) and starts scoring. */
  async start(): Promise<AddressInfo> {
    const address = await this.web.listen(this.app(), this.config.server.listen);
    this.followConfig();
    await this.state.restore(this.config);
    this.silences.start();
    this.runner.start();
    this.state.schedule(this.config);
    await this.fitCron.schedule(this.config.scheduler.fit_cron, this.config.scheduler.timezone);
    if (this.opts.reload?.watch) this.reloader?.watch();
    this.log.info('exporter started', {
      listen: `${address.address}:${address.port}`,
      scheme: this.web.serving.scheme,
      basic_auth: Object.keys(this.web.serving.config?.users ?? {}).length > 0,
      source: this.config.reader.url,
      signals: Object.keys(this.config.reader.signals),
      fit_threads: this.fitPool.size,
    });
    return address;
  }

  /** Saves every signal's model state now (the state keeper also does every state.save_every). */
  async saveState(): Promise<void> {
    await this.state.save();
  }

  async stop(): Promise<void> {
    this.reloader?.stop();
    await this.fitCron.stop();
    await this.silences.stop();
    await this.runner.stop();
    await this.state.stop();
    await this.fitPool.close();
    await this.web.close();
    this.log.info('exporter stopped');
  }
}

/** Each signal's configured unit (undefined: none). */
function signalUnits(config: ExporterConfig): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(config.reader.signals).map(([name, s]) => [name, s.unit]));
}
