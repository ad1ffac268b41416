import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/logger';
import { parseConfig } from '../config/config';
import { MemoryReader } from '../read/memory-reader';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { StateStore } from './state-store';

const STEP = 60;
const T0 = 1_700_000_040;
const yaml = (extra = '') =>
  `reader:\n  url: http://x:1\n  signals:\n    lat: {query: lat}\n    traf: {query: traf}\nmodels: {zscore: {}, mad: {}, isolation_forest: {trees: 20}${extra}}\n`;

function reader(): MemoryReader {
  const r = new MemoryReader();
  const ts = Float64Array.from({ length: 500 }, (_, i) => T0 + i * STEP);
  r.set('lat', [{ labels: { service: 'a' }, timestamps: ts, values: Float64Array.from(ts, (_, i) => 0.1 + 0.01 * Math.sin(i)) }]);
  r.set('traf', [{ labels: { service: 'a' }, timestamps: ts, values: Float64Array.from(ts, (_, i) => 50 + 3 * Math.cos(i / 3)) }]);
  return r;
}

async function trained(configText = yaml()) {
  const config = parseConfig(configText, 't.yml');
  const p = new ScoringPipeline(config, reader(), silentLogger());
  await p.runOnce(new Date((T0 + 400 * STEP) * 1000), new AbortController().signal);
  return { config, p };
}

async function restore(dir: string, configText: string) {
  const config = parseConfig(configText, 't.yml');
  const p = new ScoringPipeline(config, reader(), silentLogger());
  const store = new StateStore(dir, silentLogger());
  let restored = 0;
  for (const signal of ['lat', 'traf']) {
    const h = p.stateHashes(signal);
    const saved = await store.load(signal, h.signalHash, h.detectorHashes);
    if (saved) restored += p.restoreState(saved);
  }
  return { p, restored };
}

describe('StateStore', () => {
  it('restores models that continue with identical scores and no refit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-state-'));
    const { p } = await trained();
    const store = new StateStore(dir, silentLogger());
    for (const s of p.exportState()) await store.save(s);
    const { p: q, restored } = await restore(dir, yaml());
    expect(restored).toBe(2);
    const at = new Date((T0 + 401 * STEP) * 1000);
    const a = await p.runOnce(at, new AbortController().signal);
    const b = await q.runOnce(at, new AbortController().signal);
    expect(b.signals.lat.fitted).toBe(false);
    expect(a.signals.lat.fitted).toBe(false);
    expect(q.snapshot.series.map((s) => s.scores)).toEqual(p.snapshot.series.map((s) => s.scores));
    // Compact on disk: base64 of typed arrays, not lists of numbers.
    expect(readFileSync(join(dir, 'lat.state.ndjson'), 'utf8')).toContain('"$typed":"Int32Array"');
  });

  it('clamps a last scored sample in the future to now, with a warning, rather than staying silent until then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-state-'));
    const { p } = await trained();
    const store = new StateStore(dir, silentLogger());
    for (const s of p.exportState()) await store.save(s);
    const file = join(dir, 'lat.state.ndjson');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"lastTs":\d+(\.\d+)?/g, '"lastTs":9000000000'));
    const warnings: string[] = [];
    const log = Object.assign(Object.create(silentLogger()), { warn: (msg: string) => warnings.push(msg) });
    const config = parseConfig(yaml(), 't.yml');
    const q = new ScoringPipeline(config, reader(), log);
    const h = q.stateHashes('lat');
    const saved = await new StateStore(dir, silentLogger()).load('lat', h.signalHash, h.detectorHashes);
    const before = Date.now() / 1000;
    expect(q.restoreState(saved!)).toBe(1);
    expect(warnings).toContain('saved series state has its last scored sample in the future; scoring goes on from now');
    const lastTs = q.exportState().find((x) => x.signal === 'lat')!.series[0].lastTs;
    expect(lastTs).toBeLessThanOrEqual(Date.now() / 1000);
    expect(lastTs).toBeGreaterThanOrEqual(Math.floor(before) - 1);
  });

  it('drops only the models whose options changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-state-'));
    const { p } = await trained();
    const store = new StateStore(dir, silentLogger());
    for (const s of p.exportState()) await store.save(s);
    const { p: q } = await restore(dir, yaml().replace('isolation_forest: {trees: 20}', 'isolation_forest: {trees: 30}'));
    await q.runOnce(new Date((T0 + 401 * STEP) * 1000), new AbortController().signal);
    // zscore and mad continue at once; the forest warms up again: a refit within 5 cycles.
    const s = q.snapshot.series.find((x) => x.signal === 'lat')!;
    expect(Number.isFinite(s.expected)).toBe(true);
    expect(s.scores.isolation_forest).toBe(0);
    const fitted: boolean[] = [];
    for (let k = 402; k <= 406; k++) fitted.push((await q.runOnce(new Date((T0 + k * STEP) * 1000), new AbortController().signal)).signals.lat.fitted);
    expect(fitted).toContain(true);
  });

  it('ignores a signal whose query changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-state-'));
    const { p } = await trained();
    const store = new StateStore(dir, silentLogger());
    for (const s of p.exportState()) await store.save(s);
    const { restored } = await restore(dir, yaml().replace('lat: {query: lat}', 'lat: {query: lat, direction: above}'));
    expect(restored).toBe(1);
  });

  it.each([
    ['garbage', 'not json at all\n'],
    ['a foreign file', '{"format":"something-else","version":1}\n'],
    ['a truncated file', ''],
  ])('ignores %s without crashing', async (name, text) => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-state-'));
    const { p } = await trained();
    const store = new StateStore(dir, silentLogger());
    for (const s of p.exportState()) await store.save(s);
    if (name === 'a truncated file') {
      const full = readFileSync(join(dir, 'lat.state.ndjson'), 'utf8');
      writeFileSync(join(dir, 'lat.state.ndjson'), full.slice(0, Math.floor(full.length * 0.6)));
    } else writeFileSync(join(dir, 'lat.state.ndjson'), text);
    const { restored } = await restore(dir, yaml());
    expect(restored).toBe(1); // traf still restores
  });
});
