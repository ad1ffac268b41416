import { silentLogger } from '../../common/logger';
import { parseConfig } from '../config/config';
import { incidentsDocument } from '../publish/incidents-api';
import { MemoryReader } from '../read/memory-reader';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { renderSnapshot } from '../publish/snapshot-publisher';

const STEP = 60;
const T0 = 1_700_000_040;

describe('multivariate isolation forest per group', () => {
  it('flags a joint anomaly that neither signal shows alone', async () => {
    // Latency follows traffic (a loaded service is slower); both swing over a wide range.
    const n = 500;
    const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * STEP);
    const traffic = Float64Array.from(ts, (_, i) => 100 + 50 * Math.sin(i / 15) + ((i * 7) % 5));
    const latency = Float64Array.from(traffic, (t, i) => 0.002 * t + 0.01 * ((i * 13) % 3));
    // At 480: traffic near its top with latency near its bottom, each inside its own normal range.
    traffic[480] = 150;
    latency[480] = 0.105;
    const reader = new MemoryReader();
    reader.set('traf', [{ labels: { service: 'x' }, timestamps: ts, values: traffic }]);
    reader.set('lat', [{ labels: { service: 'x' }, timestamps: ts, values: latency }]);
    const config = parseConfig(
      `reader:\n  url: http://x:1\n  signals:\n    traffic: {query: traf}\n    latency: {query: lat}\nscheduler: {fit_window: 6h}\ncorrelation: {window: 30m}\nmodels: {zscore: {}, mad: {}, isolation_forest: {}, isolation_forest_group: {}}\nensemble: {combine: median}\n`,
      'g.yml',
    );
    const p = new ScoringPipeline(config, reader, silentLogger());
    const never = new AbortController().signal;
    for (let k = 200; k <= 480; k++) await p.runOnce(new Date((T0 + k * STEP) * 1000), never);
    const group = p.snapshot.groups[0];
    expect(group.forestScore).toBeGreaterThan(1);
    for (const s of p.snapshot.series) expect(s.ensemble).toBeLessThanOrEqual(1);
    expect(renderSnapshot(p.snapshot, '1m')).toMatch(/^anomaly_group_score\{service="x"\} \d/m);
    await p.runOnce(new Date((T0 + 481 * STEP) * 1000), never);
    expect(p.snapshot.groups[0].forestScore).toBeLessThanOrEqual(1);
    expect(incidentsDocument(p.snapshot).incidents).toEqual([]);
  });

  it('fits at most fits_per_cycle forests per cycle, new groups first, and reaches every group in turn', async () => {
    const n = 300;
    const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * STEP);
    const reader = new MemoryReader();
    const services = ['a', 'b', 'c', 'd', 'e'];
    const wave = (phase: number) => Float64Array.from(ts, (_, i) => 100 + 20 * Math.sin(i / 10 + phase) + ((i * 7) % 5));
    reader.set(
      'traf',
      services.map((s, k) => ({ labels: { service: s }, timestamps: ts, values: wave(k) })),
    );
    reader.set(
      'lat',
      services.map((s, k) => ({ labels: { service: s }, timestamps: ts, values: wave(k + 1) })),
    );
    const config = parseConfig(
      `reader:\n  url: http://x:1\n  signals:\n    traffic: {query: traf}\n    latency: {query: lat}\nmodels: {zscore: {}, isolation_forest_group: {fits_per_cycle: 2}}\n`,
      'g.yml',
    );
    const p = new ScoringPipeline(config, reader, silentLogger());
    const never = new AbortController().signal;
    const scored = () => p.snapshot.groups.filter((g) => g.forestScore !== undefined).length;
    // The first cycle collects the correlation window (31 rows of 30 minutes): every group is due, two are fitted.
    // A forest scores from the next cycle's new row.
    const counts: number[] = [];
    for (let k = 100; k < 105; k++) {
      await p.runOnce(new Date((T0 + k * STEP) * 1000), never);
      counts.push(scored());
    }
    expect(counts).toEqual([0, 2, 4, 5, 5]);
  });
});
