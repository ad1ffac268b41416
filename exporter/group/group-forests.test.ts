import { silentLogger } from '../../common/logger';
import { parseConfig } from '../config/config';
import { incidentsDocument } from '../publish/incidents-api';
import { MemoryReader } from '../read/memory-reader';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { renderSnapshot } from '../publish/snapshot-publisher';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FitPool } from '../fit/fit-pool';
import { StateStore } from '../state/state-store';
import { Shard } from '../shard/shard';

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
    // What each signal contributed: shares that sum to 1, published per signal.
    const shares = group.forestContributions!;
    expect(Object.keys(shares).sort()).toEqual(['latency', 'traffic']);
    expect(shares.latency + shares.traffic).toBeCloseTo(1, 9);
    expect(renderSnapshot(p.snapshot, '1m')).toMatch(/^anomaly_group_contribution\{service="x",signal="latency"\} 0\.\d+$/m);
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

  /** Two services whose traffic and latency move together, 500 one-minute rows. */
  function twoServices() {
    const n = 500;
    const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * STEP);
    const reader = new MemoryReader();
    const traffic = (k: number) => Float64Array.from(ts, (_, i) => 100 + 50 * Math.sin(i / 15 + k) + ((i * 7) % 5));
    reader.set(
      'traf',
      ['a', 'b'].map((s, k) => ({ labels: { service: s }, timestamps: ts, values: traffic(k) })),
    );
    reader.set(
      'lat',
      ['a', 'b'].map((s, k) => ({
        labels: { service: s },
        timestamps: ts,
        values: Float64Array.from(traffic(k), (t, i) => 0.002 * t + 0.01 * ((i * 13) % 3)),
      })),
    );
    return reader;
  }
  const groupConfig = parseConfig(
    `reader:\n  url: http://x:1\n  signals:\n    traffic: {query: traf}\n    latency: {query: lat}\nscheduler: {fit_window: 6h}\nmodels: {zscore: {}, isolation_forest_group: {}}\n`,
    'g.yml',
  );
  const never = new AbortController().signal;
  const at = (k: number) => new Date((T0 + k * STEP) * 1000);

  it("seeds a new group's forest from its series' fit windows: it scores from the second cycle after a cold start, not after 30 minutes", async () => {
    const p = new ScoringPipeline(groupConfig, twoServices(), silentLogger());
    await p.runOnce(at(400), never);
    await p.runOnce(at(401), never);
    expect(p.snapshot.groups.map((g) => g.forestScore !== undefined)).toEqual([true, true]);
  });

  it('fits the forests on the refit workers, and the main thread adopts them when they come back', async () => {
    const pool = new FitPool(1);
    const calls: number[] = [];
    const fitter = {
      size: pool.size,
      fit: pool.fit.bind(pool),
      fitForests: (o: Parameters<FitPool['fitForests']>[0], m: Parameters<FitPool['fitForests']>[1]) => (calls.push(m.length), pool.fitForests(o, m)),
    };
    try {
      const p = new ScoringPipeline(groupConfig, twoServices(), silentLogger(), undefined, fitter as unknown as FitPool);
      await p.runOnce(at(400), never);
      expect(calls).toEqual([2]);
      await p.groupFitsSettled();
      await p.runOnce(at(401), never);
      expect(p.snapshot.groups.every((g) => g.forestScore !== undefined)).toBe(true);
      // Same forests as fitted on the calling thread (same seed, same rows).
      const local = new ScoringPipeline(groupConfig, twoServices(), silentLogger());
      await local.runOnce(at(400), never);
      await local.runOnce(at(401), never);
      expect(p.snapshot.groups.map((g) => g.forestScore)).toEqual(local.snapshot.groups.map((g) => g.forestScore));
    } finally {
      await pool.close();
    }
  });

  it('saves the forests with the model state and restores them: the same scores at once after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-groups-'));
    try {
      const store = new StateStore(dir, silentLogger());
      const p = new ScoringPipeline(groupConfig, twoServices(), silentLogger());
      for (let k = 400; k <= 402; k++) await p.runOnce(at(k), never);
      await store.saveGroups(p.exportGroupForests(), p.groupForestsHash!);
      const saved = await store.loadGroups(p.groupForestsHash!);
      expect(saved.map((g) => g.key).sort()).toEqual(
        p
          .exportGroupForests()
          .map((g) => g.key)
          .sort(),
      );
      const q = new ScoringPipeline(groupConfig, twoServices(), silentLogger());
      expect(q.restoreGroupForests(saved)).toBe(2);
      // A restarted pipeline reads only the correlation window at first (no fit window kept yet): the forests score anyway.
      expect(q.exportGroupForests().map((g) => g.forest)).toEqual(p.exportGroupForests().map((g) => g.forest));
      // Other options: not restored. A corrupt file: ignored, not fatal.
      expect(await store.loadGroups('other')).toEqual([]);
      writeFileSync(
        join(dir, 'group-forests.state.ndjson'),
        '{"format":"anomaly-exporter-state","version":1,"kind":"group_forests","options_hash":"h","groups":2}\n{"key":1}\n',
      );
      expect(await store.loadGroups('h')).toEqual([]);
      // Sharded: a replica takes only the groups it owns.
      await store.saveGroups(p.exportGroupForests(), p.groupForestsHash!);
      const shard0 = new StateStore(dir, silentLogger(), new Shard({ index: 0, count: 2 }, ['service']));
      const owned = await shard0.loadGroups(p.groupForestsHash!);
      expect(owned.length).toBeLessThan(2);
      expect(owned.every((g) => new Shard({ index: 0, count: 2 }, ['service']).owns(g.labels))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
