import { analyseIncident, AnalysisInput, RangeSeries, RangeSource } from './incident-analysis';
import { EpisodeRow } from './store/receiver-store';

const START = Date.parse('2026-11-23T10:00:00Z');
const S = START / 1000;

function episode(over: Partial<EpisodeRow> = {}): EpisodeRow {
  return {
    id: 7,
    fingerprint: 'f',
    startsAt: new Date(START).toISOString(),
    startsAtMs: START,
    alertname: 'AnomalousSignal',
    labels: { alertname: 'AnomalousSignal', service: 'checkout', signal: 'latency' },
    annotations: { summary: 'checkout: latency is anomalous' },
    status: 'resolved',
    openedAtMs: START + 1000,
    resolvedAtMs: START + 60_000,
    resolveKind: 'recovered',
    runbook: 'restart',
    ...over,
  };
}

/**
 * Prometheus' answers for checkout, 15 s steps: latency steps up 30 s before the alert and back
 * 45 s after it; errors follow 30 s after latency; traffic stays flat.
 */
function fakeSource(opts: { pattern?: string; fail?: boolean; tail?: string } = {}): RangeSource & { queries: string[] } {
  const queries: string[] = [];
  const latency = (t: number) => (t >= S - 30 && t < S + 45 ? 0.35 : 0.05 + 0.001 * Math.sin(t));
  const errors = (t: number) => (t >= S && t < S + 45 ? 0.2 : 0.01 + 0.001 * Math.cos(t));
  const traffic = (t: number) => 20 + 0.5 * Math.sin(t / 7);
  const score = (f: (t: number) => number, base: number, scale: number) => (t: number) => Math.abs(f(t) - base) / scale;
  return {
    queries,
    async queryRange(promql, start, end, step) {
      queries.push(promql);
      if (opts.fail) throw new Error('connect ECONNREFUSED');
      const ts: number[] = [];
      for (let t = start; t <= end; t += step) ts.push(t);
      const series = (metric: Record<string, string>, f: (t: number) => number): RangeSeries => ({ metric, values: ts.map((t) => [t, f(t)]) });
      if (promql.startsWith('anomaly_observed_value'))
        return [
          series({ service: 'checkout', signal: 'errors' }, errors),
          series({ service: 'checkout', signal: 'latency' }, latency),
          series({ service: 'checkout', signal: 'traffic' }, traffic),
        ];
      if (promql.startsWith('anomaly_score'))
        return [
          series({ service: 'checkout', signal: 'errors', model: 'ensemble' }, score(errors, 0.01, 0.02)),
          series({ service: 'checkout', signal: 'latency', model: 'ensemble' }, score(latency, 0.05, 0.05)),
          series({ service: 'checkout', signal: 'traffic', model: 'ensemble' }, score(traffic, 20, 4)),
        ];
      if (promql.includes('anomaly_signal_info'))
        return [series({ signal: 'latency', unit: 'seconds' }, () => 1), series({ signal: 'errors', unit: 'ratio' }, () => 1)];
      const named = opts.pattern
        ? [
            {
              metric: { pattern: opts.pattern, first_signal: 'latency' },
              values: ts.filter((t) => t >= S - 30 && t < S + 45).map((t): [number, number] => [t, 1]),
            },
          ]
        : [];
      // A different name for the last few samples, as signals recover one by one.
      if (opts.tail)
        named.push({
          metric: { pattern: opts.tail, first_signal: 'errors' },
          values: ts.filter((t) => t >= S + 45 && t < S + 60).map((t): [number, number] => [t, 1]),
        });
      if (named.length) return named;
      return [];
    },
  };
}

const input = (over: Partial<AnalysisInput> = {}): AnalysisInput => ({
  episode: episode(),
  decisions: [{ decision: 'executed', reason: 'every gate passed', atMs: START + 1000 }],
  actions: [{ runbook: 'restart', target: 'checkout', outcome: 'succeeded', detail: 'http: POST → 200', startedAtMs: START + 2000 }],
  runbookAnnotations: { next_steps: 'If it comes back, roll back the last deploy.' },
  nowMs: START + 15 * 60_000,
  windowMs: 15 * 60_000,
  lookbackMs: 5 * 60_000,
  groupBy: ['service'],
  ...over,
});

describe('incident analysis', () => {
  it('finds which signal moved first, by how much, which followed, and which stayed normal', async () => {
    const a = await analyseIncident(fakeSource({ pattern: 'slow_dependency' }), input());
    expect(a.first_signal).toBe('latency');
    expect(a.signals.map((s) => s.signal)).toEqual(['latency', 'errors', 'traffic']);
    expect(a.signals[0]).toMatchObject({ onset_seconds: -30, baseline: expect.closeTo(0.05, 2), peak: 0.35, normal_now: true });
    expect(a.signals[1]).toMatchObject({ signal: 'errors', onset_seconds: 0 });
    expect(a.signals[2]).toMatchObject({ signal: 'traffic', onset: null });
    expect(a.pattern).toBe('slow_dependency');
    expect(a.correlated[0]).toMatchObject({ signal_a: 'errors', signal_b: 'latency' });
    expect(a.correlated[0].pearson).toBeGreaterThan(0.5);
    expect(a.recovered).toBe(true);
    expect(a.summary).toBe(
      'checkout: latency moved first (score above 1 30 s before the alert started; 49.87 ms → 350 ms). errors followed 30 s later (0.9951 % → 20 %). traffic stayed normal. Pattern: slow_dependency. Moved together: errors and latency (r = ' +
        a.correlated[0].pearson +
        '). Runbook restart ran on checkout 2 s after the alert started: succeeded. Recovered: the alert resolved 60 s after it started.',
    );
    expect(a.next_steps).toEqual([
      'If it comes back, roll back the last deploy.',
      expect.stringMatching(/^Latency rose with traffic normal/),
      expect.stringMatching(/dashboard/),
    ]);
  });

  it('names the pattern the exporter gave for longest, not the one its last samples had', async () => {
    const a = await analyseIncident(fakeSource({ pattern: 'slow_dependency', tail: 'unclassified' }), input());
    expect(a.pattern).toBe('slow_dependency');
  });

  it("reads the service's signals around the alert from Prometheus, ±15 minutes, with label values escaped", async () => {
    const src = fakeSource();
    const a = await analyseIncident(src, input({ episode: episode({ labels: { alertname: 'X', service: 'a"b\\c' } }) }));
    expect(src.queries).toEqual([
      'anomaly_observed_value{service="a\\"b\\\\c"}',
      'anomaly_score{service="a\\"b\\\\c",model="ensemble"}',
      'max by (pattern, first_signal) (anomaly_incident_info{service="a\\"b\\\\c"})',
      'max by (signal, unit) (anomaly_signal_info)',
    ]);
    expect(a.window).toEqual({ from: '2026-11-23T09:45:00.000Z', to: '2026-11-23T10:15:00.000Z', step_seconds: 6 });
  });

  it('is the same analysis for the same data (deterministic)', async () => {
    const [x, y] = [
      await analyseIncident(fakeSource({ pattern: 'slow_dependency' }), input()),
      await analyseIncident(fakeSource({ pattern: 'slow_dependency' }), input()),
    ];
    expect(JSON.stringify(x)).toBe(JSON.stringify(y));
  });

  it('says so when the runbook ran and the service has not recovered, and when nothing ran', async () => {
    const firing = episode({ status: 'firing', resolvedAtMs: null, resolveKind: null });
    const src = fakeSource();
    // Still anomalous at the end of the window: the window ends 20 s after the start.
    const ran = await analyseIncident(src, input({ episode: firing, nowMs: START + 20_000 }));
    expect(ran.recovered).toBe(false);
    expect(ran.next_steps[0]).toBe('The runbook ran but the service has not recovered: escalate to the service owner.');
    expect(ran.summary).toMatch(/Still firing\.$/);
    const none = await analyseIncident(
      src,
      input({ episode: firing, nowMs: START + 20_000, actions: [], decisions: [{ decision: 'refused', reason: 'cooldown', atMs: START }] }),
    );
    expect(none.next_steps[0]).toMatch(/^No remediation ran/);
    expect(none.summary).toMatch(/No action: refused \(cooldown\)\./);
  });

  it("still tells the receiver's own part when Prometheus cannot be read", async () => {
    const a = await analyseIncident(fakeSource({ fail: true }), input());
    expect(a.error).toBe('Prometheus: connect ECONNREFUSED');
    expect(a.signals).toEqual([]);
    expect(a.summary).toMatch(
      /^checkout: signals unavailable \(Prometheus: connect ECONNREFUSED\)\. Runbook restart ran on checkout 2 s after the alert started: succeeded\./,
    );
    const none = await analyseIncident(undefined, input());
    expect(none.error).toMatch(/no prometheus.url/);
  });

  it('sees only its own episode: an earlier fault that ended and a surge after the resolve are other incidents', async () => {
    // As a newcomer produced them: a latency fault 10 minutes before, 2 % errors (firing
    // 02:40:43–02:41:06 in the report, here 0–23 s), then traffic surging after the resolve.
    const T = S;
    const latency = (t: number) => (t >= T - 660 && t < T - 540 ? 0.4 : 0.05);
    const errors = (t: number) => (t >= T - 30 && t < T + 23 ? 0.04 : 0.02);
    const traffic = (t: number) => (t >= T + 40 ? 60 : 20);
    const source: RangeSource = {
      async queryRange(promql, start, end, step) {
        const ts: number[] = [];
        for (let t = start; t <= end; t += step) ts.push(t);
        const series = (metric: Record<string, string>, f: (t: number) => number): RangeSeries => ({ metric, values: ts.map((t) => [t, f(t)]) });
        const sc = (f: (t: number) => number, base: number, scale: number) => (t: number) => Math.abs(f(t) - base) / scale;
        if (promql.startsWith('anomaly_observed_value'))
          return [
            series({ service: 'checkout', signal: 'errors' }, errors),
            series({ service: 'checkout', signal: 'latency' }, latency),
            series({ service: 'checkout', signal: 'traffic' }, traffic),
          ];
        if (promql.startsWith('anomaly_score'))
          return [
            series({ service: 'checkout', signal: 'errors', model: 'ensemble' }, sc(errors, 0.02, 0.01)),
            series({ service: 'checkout', signal: 'latency', model: 'ensemble' }, sc(latency, 0.05, 0.05)),
            series({ service: 'checkout', signal: 'traffic', model: 'ensemble' }, sc(traffic, 20, 10)),
          ];
        if (promql.includes('anomaly_signal_info')) return [];
        const named = (pattern: string, first: string, from: number, to: number) => ({
          metric: { pattern, first_signal: first },
          values: ts.filter((t) => t >= from && t < to).map((t): [number, number] => [t, 1]),
        });
        return [
          named('slow_dependency', 'latency', T - 660, T - 540),
          named('error_burst', 'errors', T - 30, T + 23),
          named('load_surge', 'traffic', T + 40, T + 900),
        ];
      },
    };
    const a = await analyseIncident(
      source,
      input({
        episode: episode({
          labels: { alertname: 'AnomalousSignal', service: 'checkout', signal: 'errors' },
          annotations: { summary: 'checkout: errors is anomalous', value: '4%', expected_band: '2% (1% to 3%)', deviation: '+100% against expected' },
          resolvedAtMs: START + 23_000,
        }),
        nowMs: START + 30 * 60_000,
      }),
    );
    expect(a.first_signal).toBe('errors');
    expect(a.signals.find((x) => x.signal === 'latency')).toMatchObject({ onset: null });
    expect(a.signals.find((x) => x.signal === 'traffic')).toMatchObject({ onset: null });
    expect(a.pattern).toBe('error_burst');
    expect(a.summary).toMatch(/^checkout: errors moved first/);
    // What the alert rules wrote for on-call is part of it.
    expect(a.alert.explanation).toEqual({ value: '4%', expected_band: '2% (1% to 3%)', deviation: '+100% against expected' });
    expect(a.summary).toContain('At the alert: 4%, +100% against expected (expected 2% (1% to 3%)).');
    expect(a.summary).not.toMatch(/latency (moved|followed)|load_surge/);
    expect(a.next_steps.join(' ')).toMatch(/Errors rose without latency/);
    expect(a.correlated.filter((c) => c.signal_a === 'traffic' || c.signal_b === 'traffic')).toEqual([]);
  });
});
