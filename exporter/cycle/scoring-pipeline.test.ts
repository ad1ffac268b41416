import { silentLogger } from '../../common/logger';
import { FitPool } from '../fit/fit-pool';
import { parseConfig } from '../config/config';
import { MemoryReader, MemorySeries } from '../read/memory-reader';
import { ScoringPipeline } from './scoring-pipeline';
import { RangeQuery, RawSeries, Reader, ReaderError } from '../read/reader';
import { renderSnapshot } from '../publish/snapshot-publisher';

const STEP = 60;
const T0 = 1_700_000_000 - (1_700_000_000 % STEP);

const config = parseConfig(
  `reader:
  url: http://unused:9090
  group_by: [service]
  signals:
    latency: {query: lat, direction: above, min_deviation: 0.01}
    traffic: {query: traf}
scheduler: {step: 1m, infer_every: 1m, fit_every: 1h, fit_window: 6h}
models:
  zscore: {}
  mad: {}
  isolation_forest: {trees: 30}
`,
  'test.yml',
);

function series(labels: Record<string, string>, from: number, n: number, f: (i: number) => number): MemorySeries {
  return {
    labels,
    timestamps: Float64Array.from({ length: n }, (_, i) => from + i * STEP),
    values: Float64Array.from({ length: n }, (_, i) => f(i)),
  };
}

const wiggle = (level: number, amp: number) => (i: number) => level + amp * Math.sin(i * 1.7) * Math.cos(i * 0.31);
const at = (seconds: number) => new Date(seconds * 1000);
const never = new AbortController().signal;

describe('ScoringPipeline', () => {
  it('scores up to now minus reader.query_offset (a source whose newest answers are not final yet)', async () => {
    const reader = new MemoryReader();
    const queries: RangeQuery[] = [];
    const recording: Reader = { queryRange: (q, s) => (queries.push(q), reader.queryRange(q, s)) };
    reader.set('lat', [series({ service: 'a' }, T0, 400, wiggle(1, 0.1))]);
    reader.set('traf', [series({ service: 'a' }, T0, 400, wiggle(1, 0.1))]);
    const offset = parseConfig(`reader: {url: "http://unused:9090", query_offset: 90s, signals: {latency: {query: lat}}}`, 'o.yml');
    expect(offset.reader.query_offset).toBe(90_000);
    const r = await new ScoringPipeline(offset, recording, silentLogger()).runOnce(at(T0 + 380 * STEP + 20), never);
    // now − 90 s, down to the step: two steps back, not one.
    expect(r.endSeconds).toBe(T0 + 378 * STEP);
    expect(Math.max(...queries.map((q) => q.endSeconds))).toBe(T0 + 378 * STEP);
    expect(parseConfig('reader: {url: "http://unused:9090", signals: {latency: {query: lat}}}', 'd.yml').reader.query_offset).toBe(0);
  });

  it('fits on history, then scores new points; a spike is anomalous, normal points are not', async () => {
    const reader = new MemoryReader();
    const n = 420;
    const lat = series({ service: 'checkout' }, T0, n, wiggle(0.1, 0.005));
    lat.values[390] = 0.5; // a spike 390 steps in
    reader.set('lat', [lat]);
    reader.set('traf', [series({ service: 'checkout' }, T0, n, wiggle(100, 3))]);
    const p = new ScoringPipeline(config, reader, silentLogger());
    const first = await p.runOnce(at(T0 + 360 * STEP), never);
    expect(first.signals.latency).toMatchObject({ ok: true, fitted: true, series: 1 });
    const latest = () => p.snapshot.series.find((s) => s.signal === 'latency')!;
    expect(latest().ensemble).toBeLessThan(1);
    expect(latest().timestampSeconds).toBe(T0 + 360 * STEP);
    for (let k = 361; k < 390; k++) {
      const r = await p.runOnce(at(T0 + k * STEP), never);
      expect(r.signals.latency.fitted).toBe(false);
      expect(latest().ensemble).toBeLessThan(1);
    }
    await p.runOnce(at(T0 + 390 * STEP), never);
    expect(latest().ensemble).toBeGreaterThan(1);
    expect(latest().value).toBe(0.5);
    expect(latest().onsetSeconds).toBe(T0 + 390 * STEP);
    expect(p.snapshot.groups).toHaveLength(1);
    const g = p.snapshot.groups[0];
    expect(g).toMatchObject({ labels: { service: 'checkout' }, anomalousSignals: 1, incident: { firstSignal: 'latency', pattern: 'slow_dependency' } });
    expect(g.incident?.hint).toBe('latency rose; traffic normal: likely a slow dependency, not load');
    expect(g.signals.map((x) => [x.signal, x.anomalous])).toEqual([
      ['latency', true],
      ['traffic', false],
    ]);
    // Both series follow the same wiggle shape: strongly correlated over the 30m window.
    expect(g.correlations.map((c) => `${c.signalA}/${c.signalB}/${c.method}`)).toEqual(['latency/traffic/pearson', 'latency/traffic/spearman']);
    expect(g.correlations[1].value).toBeGreaterThan(0.5);
    // The spike stays an incident for ensemble.hold_samples (10) samples, then clears.
    for (let k = 391; k < 400; k++) {
      await p.runOnce(at(T0 + k * STEP), never);
      expect(latest().ensemble).toBeLessThan(1);
      expect(latest()).toMatchObject({ anomalous: true, onsetSeconds: T0 + 390 * STEP });
    }
    expect(p.snapshot.groups[0].anomalousSignals).toBe(1);
    await p.runOnce(at(T0 + 400 * STEP), never);
    expect(latest().anomalous).toBe(false);
    expect(latest().onsetSeconds).toBeUndefined();
    expect(p.snapshot.groups[0].anomalousSignals).toBe(0);
  });

  it('scores every sample that arrived since the last cycle, not only the newest', async () => {
    const reader = new MemoryReader();
    const lat = series({ service: 'a' }, T0, 400, wiggle(0.1, 0.005));
    lat.values[365] = 0.6;
    reader.set('lat', [lat]);
    reader.set('traf', []);
    const p = new ScoringPipeline(config, reader, silentLogger());
    await p.runOnce(at(T0 + 360 * STEP), never);
    // Skip five cycles (e.g. a source outage): the next cycle scores 361..370 in order.
    await p.runOnce(at(T0 + 370 * STEP), never);
    const s = p.snapshot.series[0];
    expect(s.ensemble).toBeLessThan(1);
    // The spike at 365 was seen: its stretch ended, so there is no onset now, but a later spike
    // right after would need new evidence; the point here is that 365 was scored at all.
    expect(s.timestampSeconds).toBe(T0 + 370 * STEP);
  });

  it('drops a series from the snapshot as soon as it vanishes from the source', async () => {
    const reader = new MemoryReader();
    reader.set('lat', [series({ service: 'a' }, T0, 400, wiggle(0.1, 0.01)), series({ service: 'b' }, T0, 365, wiggle(0.2, 0.01))]);
    reader.set('traf', []);
    const p = new ScoringPipeline(config, reader, silentLogger());
    await p.runOnce(at(T0 + 362 * STEP), never);
    expect(p.snapshot.series.map((s) => s.labels.service).sort()).toEqual(['a', 'b']);
    await p.runOnce(at(T0 + 370 * STEP), never);
    expect(p.snapshot.series.map((s) => s.labels.service)).toEqual(['a']);
  });

  it('keeps scoring the other signals when one query fails, and reports the failure', async () => {
    const memory = new MemoryReader();
    memory.set('lat', [series({ service: 'a' }, T0, 400, wiggle(0.1, 0.01))]);
    const failing: Reader = {
      queryRange: (q: RangeQuery, s: AbortSignal): Promise<RawSeries[]> =>
        q.query === 'traf' ? Promise.reject(new ReaderError('promql', 'signal traffic: bad_data: parse error', 400)) : memory.queryRange(q, s),
    };
    const p = new ScoringPipeline(config, failing, silentLogger());
    const r = await p.runOnce(at(T0 + 360 * STEP), never);
    expect(r.signals.traffic).toMatchObject({ ok: false, errorKind: 'promql' });
    expect(r.signals.latency).toMatchObject({ ok: true, series: 1 });
    expect(r.sourceUp).toBe(true);
    expect(p.snapshot.series.map((s) => s.signal)).toEqual(['latency']);
  });

  it('reports the source down when every query fails to reach it', async () => {
    const down: Reader = { queryRange: () => Promise.reject(new ReaderError('network', 'ECONNREFUSED')) };
    const p = new ScoringPipeline(config, down, silentLogger());
    const r = await p.runOnce(at(T0), never);
    expect(r.sourceUp).toBe(false);
    expect(p.snapshot.series).toEqual([]);
  });

  it('scores 0 while warming up and refits soon once enough samples exist', async () => {
    const reader = new MemoryReader();
    reader.set('lat', [series({ service: 'new' }, T0, 200, wiggle(0.1, 0.005))]);
    reader.set('traf', []);
    const p = new ScoringPipeline(config, reader, silentLogger());
    await p.runOnce(at(T0 + 10 * STEP), never);
    expect(p.snapshot.series[0].ensemble).toBe(0);
    expect(Number.isNaN(p.snapshot.series[0].expected)).toBe(true);
    // Warm-up refits come every min(fit_every, 5 x infer_every), not after a whole fit_every.
    let warmAt = -1;
    for (let k = 11; k <= 45; k++) {
      await p.runOnce(at(T0 + k * STEP), never);
      if (warmAt < 0 && Number.isFinite(p.snapshot.series[0].expected)) warmAt = k;
    }
    // 30 samples (min_samples) exist from step 30 on; the next warm-up refit is at most 5 steps later.
    expect(warmAt).toBeGreaterThanOrEqual(30);
    expect(warmAt).toBeLessThanOrEqual(35);
    expect(Number.isFinite(p.snapshot.series[0].expected)).toBe(true);
  });

  it('ignores NaN and Inf samples without crashing', async () => {
    const reader = new MemoryReader();
    const s = series({ service: 'a' }, T0, 400, wiggle(0.1, 0.01));
    for (let i = 0; i < 400; i += 7) s.values[i] = NaN;
    s.values[100] = Infinity;
    reader.set('lat', [s]);
    reader.set('traf', []);
    const p = new ScoringPipeline(config, reader, silentLogger());
    await p.runOnce(at(T0 + 360 * STEP), never);
    await p.runOnce(at(T0 + 364 * STEP), never);
    expect(Number.isFinite(p.snapshot.series[0].ensemble)).toBe(true);
  });

  it('renders the snapshot with the source labels, renaming clashes to exported_*', async () => {
    const reader = new MemoryReader();
    reader.set('lat', [series({ service: 'a', model: 'v2', instance: 'x:1' }, T0, 400, wiggle(0.1, 0.01))]);
    reader.set('traf', []);
    const p = new ScoringPipeline(config, reader, silentLogger());
    await p.runOnce(at(T0 + 360 * STEP), never);
    const text = renderSnapshot(p.snapshot, '1m');
    expect(text).toContain('# HELP anomaly_score Anomaly score per model and for the ensemble');
    expect(text).toMatch(/anomaly_score\{service="a",exported_model="v2",instance="x:1",signal="latency",model="ensemble"\} \d/);
    for (const m of ['zscore', 'mad', 'isolation_forest']) expect(text).toContain(`model="${m}"}`);
    expect(text).toMatch(/anomaly_expected_upper\{[^}]*signal="latency"\} \d/);
    expect(text).toContain('anomaly_anomalous_signals{service="a"} 0');
    expect(text).not.toContain('anomaly_onset_timestamp_seconds{');
  });
});

describe('ScoringPipeline refit requests', () => {
  it('refits every signal on the cycle after requestFit (what fit_cron triggers)', async () => {
    const reader = new MemoryReader();
    reader.set('lat', [series({ service: 'a' }, T0, 400, wiggle(0.1, 0.01))]);
    reader.set('traf', [series({ service: 'a' }, T0, 400, wiggle(10, 1))]);
    const p = new ScoringPipeline(config, reader, silentLogger());
    await p.runOnce(at(T0 + 360 * STEP), never);
    expect((await p.runOnce(at(T0 + 361 * STEP), never)).signals.latency.fitted).toBe(false);
    p.requestFit();
    const r = await p.runOnce(at(T0 + 362 * STEP), never);
    expect(r.signals.latency.fitted && r.signals.traffic.fitted).toBe(true);
    expect((await p.runOnce(at(T0 + 363 * STEP), never)).signals.latency.fitted).toBe(false);
  });
});

describe('ScoringPipeline warm-up refits', () => {
  it('refit only the series still warming up, and keep the full refit on schedule', async () => {
    const reader = new MemoryReader();
    const old = series({ service: 'old' }, T0, 500, wiggle(0.1, 0.01));
    const fresh = series({ service: 'new' }, T0 + 380 * STEP, 120, wiggle(0.2, 0.01));
    reader.set('lat', [old, fresh]);
    reader.set('traf', []);
    const p = new ScoringPipeline(config, reader, silentLogger());
    const first = await p.runOnce(at(T0 + 360 * STEP), never);
    expect(first.signals.latency.fittedSeries).toBe(1);
    const fits: number[] = [];
    for (let k = 361; k <= 420; k++) {
      const r = await p.runOnce(at(T0 + k * STEP), never);
      if (r.signals.latency.fitted) fits.push(k, r.signals.latency.fittedSeries);
    }
    // The new series appears at 380: warm-up refits (every 5 cycles) fit it alone until it has
    // its 30 samples; the full refit of both comes at 420, an hour after the first fit at 360.
    expect(fits.slice(-2)).toEqual([420, 2]);
    const warmups = fits.slice(0, -2).filter((_, i) => i % 2 === 1);
    expect(warmups.length).toBeGreaterThan(0);
    expect(warmups.every((n) => n === 1)).toBe(true);
  });
});

describe('ScoringPipeline built on a config reload', () => {
  const reloaded = (signals: string, models = 'zscore: {}\n  mad: {}\n  isolation_forest: {trees: 30}') =>
    parseConfig(
      `reader:
  url: http://unused:9090
  group_by: [service]
  signals:
${signals}
scheduler: {step: 1m, infer_every: 1m, fit_every: 1h, fit_window: 6h}
models:
  ${models}
`,
      'test.yml',
    );

  it('keeps an unchanged signal whole, restores the models a change left valid, starts the rest fresh', async () => {
    const reader = new MemoryReader();
    const n = 420;
    reader.set('lat', [series({ service: 'checkout' }, T0, n, wiggle(0.1, 0.005))]);
    reader.set('traf', [series({ service: 'checkout' }, T0, n, wiggle(100, 3))]);
    reader.set('err', [series({ service: 'checkout' }, T0, n, wiggle(0.01, 0.001))]);
    const old = new ScoringPipeline(config, reader, silentLogger());
    await old.runOnce(at(T0 + 360 * STEP), never);
    const oldSnapshot = old.snapshot;

    // latency unchanged; traffic's min_deviation changes its scoring (models dropped) ; errors is new.
    const next = new ScoringPipeline(
      reloaded(`    latency: {query: lat, direction: above, min_deviation: 0.01}
    traffic: {query: traf, min_deviation: 5}
    errors: {query: err}`),
      reader,
      silentLogger(),
      undefined,
      undefined,
      old,
    );
    expect(next.adopted).toEqual({ kept: ['latency'], restored: [], fresh: ['traffic', 'errors'] });
    // The last snapshot stays published until the first cycle.
    expect(next.snapshot).toBe(oldSnapshot);
    const r = await next.runOnce(at(T0 + 361 * STEP), never);
    expect(r.signals.latency).toMatchObject({ ok: true, fitted: false });
    expect(r.signals.traffic).toMatchObject({ ok: true, fitted: true });
    expect(r.signals.errors).toMatchObject({ ok: true, fitted: true });

    // Only the forest's options change: zscore and mad keep their fits, the signal is "restored".
    const third = new ScoringPipeline(
      reloaded(
        `    latency: {query: lat, direction: above, min_deviation: 0.01}
    traffic: {query: traf, min_deviation: 5}`,
        'zscore: {}\n  mad: {}\n  isolation_forest: {trees: 40}',
      ),
      reader,
      silentLogger(),
      undefined,
      undefined,
      next,
    );
    expect(third.adopted).toEqual({ kept: [], restored: ['latency', 'traffic'], fresh: [] });
    const r3 = await third.runOnce(at(T0 + 362 * STEP), never);
    expect(r3.signals.latency.ok).toBe(true);
    expect(third.snapshot.series.filter((s) => s.signal === 'errors')).toHaveLength(0);
    expect(third.snapshot.series.filter((s) => s.signal === 'latency')).toHaveLength(1);
  });
});

describe('ScoringPipeline reloaded: reads of the kept fit window', () => {
  const configWith = (url: string, jumpFactor: number) =>
    parseConfig(
      `reader:
  url: ${url}
  group_by: [service]
  signals:
    latency: {query: lat}
scheduler: {step: 1m, infer_every: 1m, fit_every: 1h, fit_window: 6h}
models: {zscore: {}, jump: {factor: ${jumpFactor}}}
`,
      'test.yml',
    );

  it('reads only new samples for a refit after a reload that changed a model, and the whole window after one that changed the source', async () => {
    const inner = new MemoryReader();
    inner.set('lat', [series({ service: 'checkout' }, T0, 500, wiggle(0.1, 0.005))]);
    // The points of each range read, as a source would be asked for them.
    const points: number[] = [];
    const reader: Reader = {
      queryRange: (q: RangeQuery, signal: AbortSignal) => {
        points.push(Math.round((q.endSeconds - q.startSeconds) / q.stepSeconds) + 1);
        return inner.queryRange(q, signal);
      },
    };
    const first = new ScoringPipeline(configWith('http://a:9090', 1.75), reader, silentLogger());
    await first.runOnce(at(T0 + 400 * STEP), never);
    expect(Math.max(...points)).toBeGreaterThanOrEqual(360); // the cold fit reads the 6 h window

    // The jump model's factor changes: the signal is restored (the z-score kept, the jump model refitted).
    const second = new ScoringPipeline(configWith('http://a:9090', 1.8), reader, silentLogger(), undefined, undefined, first);
    expect(second.adopted?.restored).toEqual(['latency']);
    second.requestFit();
    points.length = 0;
    const r2 = await second.runOnce(at(T0 + 401 * STEP), never);
    expect(r2.signals.latency).toMatchObject({ ok: true, fitted: true });
    expect(Math.max(...points)).toBeLessThanOrEqual(2);

    // Another source (its URL): the kept window no longer holds, the refit reads it whole.
    const third = new ScoringPipeline(configWith('http://b:9090', 1.8), reader, silentLogger(), undefined, undefined, second);
    expect(third.adopted?.kept).toEqual(['latency']);
    third.requestFit();
    points.length = 0;
    const r3 = await third.runOnce(at(T0 + 402 * STEP), never);
    expect(r3.signals.latency).toMatchObject({ ok: true, fitted: true });
    expect(Math.max(...points)).toBeGreaterThanOrEqual(360);
  });
});

describe('ScoringPipeline reloaded: a changed model, the series going on', () => {
  const configWith = (jumpFactor: number, hold = 10) =>
    parseConfig(
      `reader:
  url: http://a:9090
  group_by: [service]
  signals:
    latency: {query: lat}
scheduler: {step: 1m, infer_every: 1m, fit_every: 1h, fit_window: 6h}
ensemble: {hold_samples: ${hold}}
models: {zscore: {}, pattern: {}, jump: {factor: ${jumpFactor}}}
`,
      'test.yml',
    );

  it('keeps the scored history, the ongoing incident and its onset across a reload that changed the jump model; other hold sizes start the tracker as from saved state', async () => {
    const reader = new MemoryReader();
    const lat = series({ service: 'checkout' }, T0, 500, wiggle(0.1, 0.005));
    for (let i = 405; i < 500; i++) lat.values[i] = 0.4; // a shift from 405 steps in, still going on
    reader.set('lat', [lat]);
    const first = new ScoringPipeline(configWith(1.75), reader, silentLogger());
    await first.runOnce(at(T0 + 400 * STEP), never);
    for (let i = 401; i <= 410; i++) await first.runOnce(at(T0 + i * STEP), never);
    const before = first.snapshot.series[0];
    expect(before.anomalous).toBe(true);
    expect(before.onsetSeconds).toBe(T0 + 405 * STEP);
    const historyBefore = first.historyOf(before)!.ts;
    expect(historyBefore.length).toBeGreaterThanOrEqual(10);

    const second = new ScoringPipeline(configWith(1.8), reader, silentLogger(), undefined, undefined, first);
    expect(second.adopted?.restored).toEqual(['latency']);
    const r = await second.runOnce(at(T0 + 411 * STEP), never);
    expect(r.signals.latency.ok).toBe(true);
    const after = second.snapshot.series[0];
    expect(after.timestampSeconds).toBe(T0 + 411 * STEP);
    expect(after.anomalous).toBe(true);
    expect(after.onsetSeconds).toBe(T0 + 405 * STEP);
    // The web page's history goes on: what was scored before the reload, and the new sample.
    expect(second.historyOf(after)!.ts).toEqual([...historyBefore, T0 + 411 * STEP]);

    // Another hold size: the tracker goes on as after a restart (its onset kept, its history anew).
    const third = new ScoringPipeline(configWith(1.8, 5), reader, silentLogger(), undefined, undefined, second);
    expect(third.adopted?.fresh).toEqual([]);
    await third.runOnce(at(T0 + 412 * STEP), never);
    const last = third.snapshot.series[0];
    expect(last.onsetSeconds).toBe(T0 + 405 * STEP);
    expect(third.historyOf(last)!.ts).toEqual([T0 + 412 * STEP]);
  });
});

describe('ScoringPipeline cut by its timeout during a fit', () => {
  it('keeps the fits that finish after the cut: the next cycle scores with them, no second fit', async () => {
    const reader = new MemoryReader();
    const n = 420;
    reader.set('lat', [series({ service: 'checkout' }, T0, n, wiggle(0.1, 0.005))]);
    reader.set('traf', [series({ service: 'checkout' }, T0, n, wiggle(100, 3))]);
    const inner = new FitPool(0);
    const cut = new AbortController();
    // A fitter that takes its time: the cycle's timeout fires while it works.
    const slow = {
      size: inner.size,
      fit: async (...args: Parameters<FitPool['fit']>) => {
        cut.abort(new Error('cycle timeout'));
        await new Promise((r) => setTimeout(r, 20));
        return inner.fit(...args);
      },
    };
    const p = new ScoringPipeline(config, reader, silentLogger(), undefined, slow);
    const first = await p.runOnce(at(T0 + 360 * STEP), cut.signal);
    expect(first.aborted).toBe(true);
    const next = await p.runOnce(at(T0 + 361 * STEP), never);
    // latency's fit ran past the cut and is kept; traffic's read came after the cut, so it fits now.
    expect(next.signals.latency).toMatchObject({ ok: true, fitted: false });
    expect(next.signals.traffic).toMatchObject({ ok: true, fitted: true });
    expect(p.snapshot.series.find((s) => s.signal === 'latency')!.expected).toBeGreaterThan(0);
  });

  it('refits from the window it kept, reading only the new samples, with the same fits and scores within 1e-6 of re-reading the whole window', async () => {
    const n = 520;
    const lat = [
      series({ service: 'a' }, T0, n, wiggle(0.2, 0.01)),
      // NaN values now and then (an error ratio with no traffic), and a spike.
      series({ service: 'b' }, T0, n, (i) => (i % 37 === 5 ? Number.NaN : i === 455 ? 3 : wiggle(0.5, 0.02)(i))),
      // Leaves the source 60 steps in (still inside the window at the first refits), and one that appears late.
      series({ service: 'gone' }, T0, 420, wiggle(1, 0.05)),
      series({ service: 'late' }, T0 + 400 * STEP, n - 400, wiggle(2, 0.1)),
    ];
    const traf = [series({ service: 'a' }, T0, n, wiggle(100, 3)), series({ service: 'b' }, T0, n, wiggle(50, 2))];
    const run = async (refitReads: string) => {
      const reader = new MemoryReader();
      reader.set('lat', lat);
      reader.set('traf', traf);
      const queries: RangeQuery[] = [];
      const recording: Reader = { queryRange: (q, sig) => (queries.push(q), reader.queryRange(q, sig)) };
      const c = parseConfig(
        `reader: {url: "http://unused:9090", group_by: [service], refit_reads: ${refitReads}, signals: {latency: {query: lat}, traffic: {query: traf}}}
scheduler: {step: 1m, infer_every: 1m, fit_every: 1h, fit_window: 6h}
models: {seasonal: {}, zscore: {}, pattern: {}, jump: {}, mad: {}, isolation_forest: {trees: 20}, isolation_forest_group: {}}
`,
        'r.yml',
      );
      const p = new ScoringPipeline(c, recording, silentLogger());
      const scores: (string | number)[][][] = [];
      const fits: number[] = [];
      for (let k = 360; k < n; k++) {
        const r = await p.runOnce(at(T0 + k * STEP), never);
        if (r.signals.latency.fitted) fits.push(k);
        scores.push(p.snapshot.series.map((x) => [x.signal, x.labels.service, x.timestampSeconds, x.ensemble, x.expected, x.lower, x.upper]));
      }
      return { scores, fits, queries, state: p.exportState() };
    };
    const whole = await run('fit_window');
    const kept = await run('new_samples');
    expect(kept.fits).toEqual(whole.fits);
    expect(kept.fits.length).toBeGreaterThanOrEqual(3);
    // The kept window holds samples as Float32 offsets (signal-window.ts): the same series at the
    // same times, with scores and bands within the stated tolerance of a whole-window read.
    const label = (c: (string | number)[][][]) => c.map((cycle) => cycle.map((x) => x.slice(0, 3)));
    expect(label(kept.scores)).toEqual(label(whole.scores));
    let worstScore = 0;
    let worstBand = 0;
    kept.scores.forEach((cycle, c) =>
      cycle.forEach((x, i) => {
        const [, , , score, expected, lower, upper] = whole.scores[c][i] as number[];
        const [, , , keptScore, keptExpected, keptLower, keptUpper] = x as number[];
        worstScore = Math.max(worstScore, Math.abs(keptScore - score) / Math.max(1, score));
        const width = upper - lower;
        for (const [a, b] of [
          [keptExpected, expected],
          [keptLower, lower],
          [keptUpper, upper],
        ]) {
          if (Number.isFinite(b)) worstBand = Math.max(worstBand, Math.abs(a - b) / width);
          else expect(a).toBe(b);
        }
      }),
    );
    // Stated tolerance: scores within 1e-6 (relative, above 1), band edges within 1e-6 of the band's
    // width (measured: 2e-7 and 6e-9).
    expect(worstScore).toBeLessThanOrEqual(1e-6);
    expect(worstBand).toBeLessThanOrEqual(1e-6);
    const shape = (state: typeof kept.state) =>
      state.map((x) => ({ signal: x.signal, lastFit: x.lastFit, series: x.series.map((y) => [y.labels, y.lastTs, y.onset]) }));
    expect(shape(kept.state)).toEqual(shape(whole.state));
    // The first fit read the whole window; the scheduled refits after it read a few minutes only.
    const longest = (qs: RangeQuery[], from: number) =>
      Math.max(...qs.filter((q) => q.endSeconds > T0 + from * STEP).map((q) => q.endSeconds - q.startSeconds));
    expect(longest(whole.queries, 361)).toBe(6 * 3600);
    expect(longest(kept.queries, 361)).toBeLessThanOrEqual(5 * STEP);
    expect(parseConfig('reader: {url: "http://unused:9090", signals: {latency: {query: lat}}}', 'd.yml').reader.refit_reads).toBe('new_samples');
  });
});
