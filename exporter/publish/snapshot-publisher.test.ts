import { promtoolCheckMetrics } from '../../test/stack';
import { renderSnapshot, SnapshotPublisher } from './snapshot-publisher';
import { analyseGroups } from '../group/group-analysis';
import { SeriesResult, Snapshot } from './snapshot';

const hostile = 'a "quoted" \\ back\nslash ✓ ünï';

function result(labels: Record<string, string>, ensemble: number, extra: Partial<SeriesResult> = {}): SeriesResult {
  return {
    signal: labels.signal,
    labels,
    timestampSeconds: 1,
    value: 0.5,
    scores: { zscore: ensemble, mad: 0.1 },
    ensemble,
    expected: 0.4,
    lower: 0.3,
    upper: 0.5,
    anomalous: ensemble > 1,
    ...extra,
  };
}

describe('snapshot publisher', () => {
  const series = [
    result({ service: hostile, signal: 'latency' }, 2.5, { onsetSeconds: 1234.5 }),
    result({ service: 'b', signal: 'latency' }, 0.2, { expected: NaN, lower: NaN, upper: NaN }),
    result({ service: 'b', signal: 'errors' }, 1.5),
  ];
  const snapshot: Snapshot = {
    builtAtSeconds: 1,
    series,
    groups: analyseGroups(
      series.map((result) => ({ result, recent: { ts: [], values: [] } })),
      { groupBy: ['service'], methods: ['pearson'], minSamples: 10, kinds: { latency: 'latency', errors: 'errors' } },
    ),
  };

  it('renders text that promtool accepts, hostile label values included', () => {
    const text = renderSnapshot(snapshot, '1m');
    const check = promtoolCheckMetrics(text);
    expect(check.output).toBe('');
    expect(check.ok).toBe(true);
    expect(text).toContain('anomaly_score{service="a \\"quoted\\" \\\\ back\\nslash ✓ ünï",signal="latency",model="ensemble"} 2.5');
  });

  it('leaves out bands that are not known yet and onsets of normal series', () => {
    const text = renderSnapshot(snapshot, '1m');
    expect(text).not.toMatch(/anomaly_expected_value\{service="b",signal="latency"\}/);
    expect(text.match(/^anomaly_onset_timestamp_seconds\{/gm)).toHaveLength(1);
    expect(text).toContain('anomaly_anomalous_signals{service="b"} 1');
  });

  it('renders each snapshot once and serves the same text until the next', () => {
    let current = snapshot;
    const publisher = new SnapshotPublisher(() => current, '1m');
    const first = publisher.render();
    expect(publisher.render()).toBe(first);
    current = { ...snapshot, series: [], groups: [] };
    expect(Buffer.concat(publisher.render()).toString()).not.toContain('anomaly_score{');
  });
});
