import { FEEDBACK_KINDS, METRIC } from '../../common/vocabulary';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Exporter self-monitoring, prefix anomaly_exporter_ (DESIGN.md metric contract). */
export class SelfMetrics {
  readonly buildInfo: Gauge<'version' | 'nodejs_version'>;
  readonly sourceUp: Gauge;
  readonly lastSuccess: Gauge;
  readonly inferInterval: Gauge;
  readonly cycleDuration: Histogram;
  readonly queryDuration: Histogram<'signal'>;
  readonly parseDuration: Histogram<'signal'>;
  readonly queries: Counter<'signal'>;
  readonly queryErrors: Counter<'signal'>;
  readonly cycles: Counter;
  readonly cycleTimeouts: Counter;
  readonly series: Gauge<'signal'>;
  readonly fitDuration: Histogram<'signal'>;
  readonly signalInfo: Gauge<'signal' | 'unit'>;
  readonly webInfo: Gauge<'external_url'>;
  readonly shardInfo: Gauge<'index' | 'count'>;
  readonly feedback: Counter<'kind'>;
  readonly feedbackMarks: Gauge<'kind'>;
  private amUp?: Gauge;
  private readonly registry: Registry;
  private signals: string[] = [];

  constructor(registry: Registry, version: string, signals: string[], inferEverySeconds = 60, units: Record<string, string | undefined> = {}) {
    const r = [registry];
    this.webInfo = new Gauge({
      name: 'anomaly_exporter_web_info',
      help: 'The URL the exporter is reached at (server.external_url), value 1: alert rules build runbook links from it.',
      labelNames: ['external_url'],
      registers: r,
    });
    this.shardInfo = new Gauge({
      name: 'anomaly_exporter_shard_info',
      help: "This replica's share of the groups (sharding, run --shard INDEX/COUNT), value 1; 0/1 when not sharded.",
      labelNames: ['index', 'count'],
      registers: r,
    });
    this.shardInfo.set({ index: '0', count: '1' }, 1);
    this.feedback = new Counter({
      name: METRIC.feedback,
      help: 'Operator feedback marks received (Alertmanager silences whose comment starts with "anomaly: false-positive" or "anomaly: maintenance"), by kind.',
      labelNames: ['kind'],
      registers: r,
    });
    this.feedbackMarks = new Gauge({
      name: 'anomaly_exporter_feedback_marks',
      help: 'Feedback marks the exporter keeps (in its state across restarts), by kind.',
      labelNames: ['kind'],
      registers: r,
    });
    for (const kind of FEEDBACK_KINDS) {
      this.feedback.inc({ kind }, 0);
      this.feedbackMarks.set({ kind }, 0);
    }
    this.registry = registry;
    this.signalInfo = new Gauge({
      name: METRIC.signalInfo,
      help: 'The configured signals, value 1, with the unit of their values (reader.signals.NAME.unit; empty when none).',
      labelNames: ['signal', 'unit'],
      registers: r,
    });
    this.buildInfo = new Gauge({
      name: 'anomaly_exporter_build_info',
      help: 'Build information; the value is always 1.',
      labelNames: ['version', 'nodejs_version'],
      registers: r,
    });
    this.buildInfo.set({ version, nodejs_version: process.versions.node }, 1);
    this.sourceUp = new Gauge({ name: 'anomaly_exporter_source_up', help: 'Whether the last cycle reached the query source (1) or not (0).', registers: r });
    this.lastSuccess = new Gauge({
      name: 'anomaly_exporter_last_success_timestamp_seconds',
      help: 'Unix time of the last cycle in which the source answered; alert when it is older than a few infer intervals.',
      registers: r,
    });
    // Rules need the cycle interval to tell a stale exporter ("no success for 3 intervals") without
    // hard-coding it, so a config change never leaves the alert wrong.
    this.inferInterval = new Gauge({
      name: 'anomaly_exporter_infer_interval_seconds',
      help: 'Configured interval between scoring cycles (scheduler.infer_every).',
      registers: r,
    });
    this.inferInterval.set(inferEverySeconds);
    const cycleBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
    this.cycleDuration = new Histogram({
      name: 'anomaly_exporter_cycle_duration_seconds',
      help: 'Duration of scoring cycles (query, fit when due, score).',
      buckets: cycleBuckets,
      registers: r,
    });
    this.queryDuration = new Histogram({
      name: 'anomaly_exporter_query_duration_seconds',
      help: 'Time the source took to answer a read (request to last byte, every piece and retry), per signal.',
      labelNames: ['signal'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    this.parseDuration = new Histogram({
      name: 'anomaly_exporter_parse_duration_seconds',
      help: 'Time spent parsing the source answers of a read (JSON to series), per signal; query_duration_seconds is the source answering.',
      labelNames: ['signal'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    this.queries = new Counter({
      name: 'anomaly_exporter_queries_total',
      help: 'Range queries sent to the source, per signal.',
      labelNames: ['signal'],
      registers: r,
    });
    this.queryErrors = new Counter({
      name: 'anomaly_exporter_query_errors_total',
      help: 'Range queries that failed (network, timeout, HTTP or PromQL error), per signal.',
      labelNames: ['signal'],
      registers: r,
    });
    this.cycles = new Counter({ name: 'anomaly_exporter_cycles_total', help: 'Scoring cycles started.', registers: r });
    this.cycleTimeouts = new Counter({
      name: 'anomaly_exporter_cycle_timeouts_total',
      help: 'Scoring cycles cut by their timeout, with in-flight queries aborted.',
      registers: r,
    });
    this.series = new Gauge({ name: 'anomaly_exporter_series', help: 'Series scored in the last cycle, per signal.', labelNames: ['signal'], registers: r });
    this.fitDuration = new Histogram({
      name: 'anomaly_exporter_fit_duration_seconds',
      help: 'Duration of model refits, per signal (all series of the signal).',
      labelNames: ['signal'],
      buckets: cycleBuckets,
      registers: r,
    });
    this.setSignals(signals, units);
    this.sourceUp.set(0);
  }

  /**
   * The configured signals (at start and after a reload): a new signal's series are created at 0,
   * so it shows before its first error; a removed signal's series are dropped, not left stale.
   */
  /** The external URL (at start and after a reload), one series only. */
  setExternalUrl(url: string): void {
    this.webInfo.reset();
    this.webInfo.set({ external_url: url }, 1);
  }

  setSignals(signals: readonly string[], units: Record<string, string | undefined> = {}): void {
    this.signalInfo.reset();
    for (const s of signals) this.signalInfo.set({ signal: s, unit: units[s] ?? '' }, 1);
    for (const s of this.signals) {
      if (signals.includes(s)) continue;
      for (const m of [this.queries, this.queryErrors, this.series, this.queryDuration, this.parseDuration, this.fitDuration]) m.remove({ signal: s });
    }
    for (const s of signals) {
      if (this.signals.includes(s)) continue;
      this.queries.inc({ signal: s }, 0);
      this.queryErrors.inc({ signal: s }, 0);
      this.series.set({ signal: s }, 0);
      this.queryDuration.zero({ signal: s });
      this.parseDuration.zero({ signal: s });
      this.fitDuration.zero({ signal: s });
    }
    this.signals = [...signals];
  }

  /** Whether the last poll of Alertmanager's silences answered; the gauge exists only once feedback is on. */
  alertmanagerUp(up: boolean): void {
    this.amUp ??= new Gauge({
      name: 'anomaly_exporter_alertmanager_up',
      help: "Whether the last poll of Alertmanager's silences (alertmanager.url) answered (1) or not (0); absent when feedback is off.",
      registers: [this.registry],
    });
    this.amUp.set(up ? 1 : 0);
  }
}
