import { Registry } from 'prom-client';
import { Snapshot } from './snapshot';

interface MetricValue {
  labels: Record<string, string>;
  value: number;
}

/**
 * A prom-client-compatible metric whose samples come from the latest snapshot each scrape.
 * prom-client's own Gauge wants its label names up front; a scored series keeps its source labels,
 * which are only known at run time, so these metrics implement the registry's `get()` contract.
 */
class SnapshotMetric {
  readonly aggregator = 'first';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: (s: Snapshot) => MetricValue[],
    private readonly current: () => Snapshot,
    readonly type = 'gauge',
  ) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.collect(this.current()) };
  }

  reset(): void {}
}

const withModel = (labels: Readonly<Record<string, string>>, model: string) => ({ ...labels, model });

/**
 * Registers the public per-series and per-group metrics (DESIGN.md metric contract) on `registry`,
 * rendered from whatever `current()` returns at scrape time.
 */
export function registerSnapshotMetrics(registry: Registry, current: () => Snapshot, inferEvery: string): void {
  const every = `Computed every ${inferEvery}.`;
  const metrics = [
    new SnapshotMetric(
      'anomaly_score',
      `Anomaly score per model and for the ensemble: 0 at the expected value, 1 at the band edge, above 1 anomalous. ${every}`,
      (s) =>
        s.series.flatMap((r) => [
          ...Object.entries(r.scores).map(([model, value]) => ({ labels: withModel(r.labels, model), value })),
          { labels: withModel(r.labels, 'ensemble'), value: r.ensemble },
        ]),
      current,
    ),
    new SnapshotMetric('anomaly_observed_value', `The newest value that was scored. ${every}`, (s) => s.series.map((r) => ({ labels: { ...r.labels }, value: r.value })), current),
    new SnapshotMetric(
      'anomaly_expected_value',
      `The ensemble's expected value (from the statistical models). ${every}`,
      (s) => s.series.filter((r) => Number.isFinite(r.expected)).map((r) => ({ labels: { ...r.labels }, value: r.expected })),
      current,
    ),
    new SnapshotMetric(
      'anomaly_expected_lower',
      `Lower edge of the ensemble's expected band (score 1 on the low side). ${every}`,
      (s) => s.series.filter((r) => Number.isFinite(r.lower)).map((r) => ({ labels: { ...r.labels }, value: r.lower })),
      current,
    ),
    new SnapshotMetric(
      'anomaly_expected_upper',
      `Upper edge of the ensemble's expected band (score 1 on the high side). ${every}`,
      (s) => s.series.filter((r) => Number.isFinite(r.upper)).map((r) => ({ labels: { ...r.labels }, value: r.upper })),
      current,
    ),
    new SnapshotMetric(
      'anomaly_onset_timestamp_seconds',
      `Unix time at which the current anomalous stretch (ensemble score above 1) began; absent when normal. ${every}`,
      (s) => s.series.filter((r) => r.onsetSeconds !== undefined).map((r) => ({ labels: { ...r.labels }, value: r.onsetSeconds as number })),
      current,
    ),
    new SnapshotMetric(
      'anomaly_anomalous_signals',
      `Signals of the group whose ensemble anomaly score is above 1 now. ${every}`,
      (s) => s.groups.map((g) => ({ labels: { ...g.labels }, value: g.anomalousSignals })),
      current,
    ),
  ];
  for (const m of metrics) registry.registerMetric(m as never);
}
