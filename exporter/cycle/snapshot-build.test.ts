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
  it('freezes every published series and one group per group_by value, with its incident', async () => {
    const s = await buildSnapshot(
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

  it('has no groups without group_by', async () => {
    expect((await buildSnapshot([published('latency', 'checkout', true)], 1, 1, { ...analysis, groupBy: [] })).groups).toEqual([]);
  });

  it('gives the event loop turns while it walks many groups, and builds the same snapshot', async () => {
    // Groups whose two signals have 120 recent samples each: correlations to work out.
    const ts = Array.from({ length: 120 }, (_, i) => 600 - 120 + i);
    // Enough of them that the build takes far longer than one turn should (the correlations got
    // five times cheaper in session 17: 1,000 groups took only about 100 ms on a busy machine).
    const many = Array.from({ length: 3000 }, (_, k) =>
      ['latency', 'traffic'].map((signal, j) => ({
        ...published(signal, `svc-${k}`, j === 0 && k % 7 === 0),
        recent: { ts, values: ts.map((t) => Math.sin(t * (k + 1 + j))) },
      })),
    ).flat();
    // The longest wait of a 0 ms timer during the build: what a request would wait.
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => {
      longest = Math.max(longest, performance.now() - last);
      last = performance.now();
    }, 0);
    const started = performance.now();
    const s = await buildSnapshot(many, 1, 1, { ...analysis, methods: ['pearson', 'spearman'] });
    const took = performance.now() - started;
    await new Promise((r) => setTimeout(r, 5)); // the timer's turn right after the build counts too
    clearInterval(ticker);
    expect(s.groups).toHaveLength(3000);
    expect(s.groups.filter((g) => g.anomalousSignals === 1)).toHaveLength(Math.ceil(3000 / 7));
    expect(took).toBeGreaterThan(150); // long enough that one piece would have held a request
    expect(longest).toBeLessThan(100);
  });
});
