import { PublishedSeries } from '../group/group-analysis';
import { SeriesResult } from '../publish/snapshot';
import { buildSnapshot } from './snapshot-build';

function published(signal: string, service: string | undefined, anomalous: boolean): PublishedSeries {
  const labels: Record<string, string> = { signal };
  if (service) labels.service = service;
  const result: SeriesResult = {
    signal,
    labels,
    timestampSeconds: 600,
    value: anomalous ? 5 : 1,
    scores: {},
    ensemble: anomalous ? 3 : 0.1,
    expected: 1,
    lower: 0.5,
    upper: 1.5,
    anomalous,
    onsetSeconds: anomalous ? 540 : undefined,
  };
  return { result, recent: { ts: [], values: [] } };
}

const analysis = { groupBy: ['service'], methods: ['pearson' as const], minSamples: 10, kinds: { latency: 'latency' as const, traffic: 'traffic' as const } };

describe('snapshot build', () => {
  it('freezes every published series and one group per group_by value, with its incident', () => {
    const s = buildSnapshot(
      [
        published('latency', 'checkout', true),
        published('traffic', 'checkout', false),
        published('latency', 'catalog', false),
        published('latency', undefined, true),
      ],
      1000,
      600,
      analysis,
    );
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.series)).toBe(true);
    expect(s.builtAtSeconds).toBe(1000);
    expect(s.series).toHaveLength(4);
    const checkout = s.groups.find((g) => g.labels.service === 'checkout')!;
    expect(checkout.anomalousSignals).toBe(1);
    expect(checkout.incident).toMatchObject({ pattern: 'slow_dependency', firstSignal: 'latency' });
    expect(s.groups.find((g) => g.labels.service === 'catalog')).toMatchObject({ anomalousSignals: 0, incident: undefined });
    // A series without the group label belongs to no group.
    expect(s.groups).toHaveLength(2);
  });

  it('has no groups without group_by', () => {
    expect(buildSnapshot([published('latency', 'checkout', true)], 1, 1, { ...analysis, groupBy: [] }).groups).toEqual([]);
  });
});
