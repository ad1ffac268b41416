import fc from 'fast-check';
import { Prng } from './prng';
import { keepDetectorStates, MAX_SCORE, SeriesModel, SeriesModelConfig, SeriesModelState } from './series-model';
import { DEFAULT_SCORE_OPTIONS, ScoreOptions } from './types';

function config(scoring: Partial<ScoreOptions> = {}): SeriesModelConfig {
  return {
    detectors: {
      zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples: 30 },
      mad: { threshold: 5, minSamples: 30, contamination: 0.01, adaptSamples: 30 },
      isolation_forest: { trees: 50, sampleSize: 256, seed: 1, contamination: 0.001, minSamples: 30, calibrationSamples: 512 },
    },
    combine: 'max',
    scoring: { ...DEFAULT_SCORE_OPTIONS, ...scoring },
    levelAlpha: 0.1,
  };
}

function noisy(n: number, level: number, noise: number, seed = 1): Float64Array {
  const rng = new Prng(seed);
  // Sum of uniforms: roughly normal, bounded.
  return Float64Array.from({ length: n }, () => level + noise * (rng.next() + rng.next() + rng.next() - 1.5));
}

describe('SeriesModel', () => {
  it('scores 0 while warming up, then scores once it has its minimum samples', () => {
    const m = new SeriesModel(config());
    const outcome = m.fit(noisy(10, 100, 1), 0);
    expect(outcome.warmingUp.sort()).toEqual(['isolation_forest', 'mad', 'zscore']);
    const s = m.score(Float64Array.from([1000]));
    expect(s.ensemble[0]).toBe(0);
    expect(Number.isNaN(s.expected[0])).toBe(true);
    m.fit(noisy(100, 100, 1), 60);
    expect(m.score(Float64Array.from([1000])).ensemble[0]).toBeGreaterThan(1);
  });

  it('finds an injected spike and does not flag ordinary noise', () => {
    const m = new SeriesModel(config());
    m.fit(noisy(1440, 50, 2, 1), 0);
    const fresh = noisy(300, 50, 2, 2);
    fresh[150] = 70;
    const s = m.score(fresh);
    expect(s.ensemble[150]).toBeGreaterThan(1);
    // Calibrated false-alarm rate: about `contamination` of ordinary points may score above 1.
    const others = Array.from(s.ensemble).filter((_, i) => i !== 150 && i !== 151);
    expect(others.filter((v) => v > 1).length / others.length).toBeLessThanOrEqual(0.01);
    // The band is around the level and contains ordinary values.
    expect(s.lower[0]).toBeLessThan(50);
    expect(s.upper[0]).toBeGreaterThan(50);
    expect(s.expected[0]).toBeCloseTo(50, 0);
  });

  it('honours direction: a drop in an "above" signal scores 0', () => {
    const m = new SeriesModel(config({ direction: 'above' }));
    m.fit(noisy(500, 0.05, 0.005), 0);
    const s = m.score(Float64Array.from([0.001, 0.2]));
    expect(s.ensemble[0]).toBe(0);
    expect(s.ensemble[1]).toBeGreaterThan(1);
  });

  it('honours min_deviation: a shift smaller than it never scores above 1', () => {
    const m = new SeriesModel(config({ minDeviation: 0.05 }));
    m.fit(noisy(500, 0.02, 0.0005), 0);
    const s = m.score(Float64Array.from([0.03, 0.06, 0.2]));
    expect(s.ensemble[0]).toBeLessThan(1);
    expect(s.ensemble[1]).toBeLessThan(1);
    expect(s.ensemble[2]).toBeGreaterThan(1);
  });

  it('saves and loads back to identical scores, feature stream included', () => {
    const m = new SeriesModel(config());
    m.fit(noisy(800, 10, 1), 123);
    m.score(noisy(5, 10, 1, 3));
    const copy = SeriesModel.load(JSON.parse(JSON.stringify(m.toJSON())), config());
    const probe = noisy(50, 10, 3, 4);
    const a = m.score(probe);
    const b = copy.score(probe);
    expect(Array.from(b.ensemble)).toEqual(Array.from(a.ensemble));
    for (const name of Object.keys(a.models)) expect(Array.from(b.models[name])).toEqual(Array.from(a.models[name]));
  });

  it('with a seasonal profile, saves both feature streams; a state saved before the value stream existed still loads', () => {
    const seasonal: SeriesModelConfig = { ...config(), seasonal: { minSamplesPerSlot: 3, memory: 240 }, seasonalModels: ['isolation_forest'] };
    const times = Float64Array.from({ length: 3000 }, (_, i) => 1_700_000_000 + i * 300);
    const slots = Uint8Array.from(times, (t) => Math.floor(t / 3600) % 168);
    const values = Float64Array.from(noisy(3000, 10, 1), (v, i) => v + 3 * Math.sin((2 * Math.PI * i) / 288));
    const m = new SeriesModel(seasonal);
    m.fit(values.subarray(0, 2900), 0, { times: times.subarray(0, 2900), slots: slots.subarray(0, 2900) });
    const saved = JSON.parse(JSON.stringify(m.toJSON())) as SeriesModelState;
    expect(saved.valueExtractor).toBeDefined();
    const probe = values.subarray(2900);
    const same = SeriesModel.load(saved, seasonal).score(probe, slots.subarray(2900));
    const old = SeriesModel.load({ ...saved, valueExtractor: undefined }, seasonal).score(probe, slots.subarray(2900));
    const a = m.score(probe, slots.subarray(2900));
    expect(Array.from(same.ensemble)).toEqual(Array.from(a.ensemble));
    // The older state starts the value stream from the residuals' stream: scores stay finite.
    expect(Array.from(old.ensemble).every(Number.isFinite)).toBe(true);
    // The z-score scores values: its band is around the value, not shifted by the profile.
    expect(Math.abs(a.expected[0] - 10)).toBeLessThan(1);
  });

  it('rejects a state of another version', () => {
    expect(() => SeriesModel.load({ version: 99, extractor: { last: 0, level: 0, count: 0 }, detectors: [] }, config())).toThrow(/version/);
  });

  it('gives finite, non-negative scores for any finite input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), { minLength: 30, maxLength: 200 }),
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 20 }),
        (train, fresh) => {
          const m = new SeriesModel({
            ...config(),
            detectors: {
              ...config().detectors,
              isolation_forest: { trees: 10, sampleSize: 64, seed: 1, contamination: 0.01, minSamples: 30, calibrationSamples: 512 },
            },
          });
          m.fit(Float64Array.from(train), 0);
          const s = m.score(Float64Array.from(fresh));
          for (const v of s.ensemble) {
            expect(Number.isFinite(v)).toBe(true);
            expect(v).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('SeriesModel state across threads', () => {
  it('survives a structured clone (what worker threads do) with identical scores', () => {
    const m = new SeriesModel(config());
    m.fit(noisy(500, 10, 1), 5);
    const copy = SeriesModel.load(structuredClone(m.toState()), config());
    const probe = noisy(40, 10, 4, 9);
    expect(Array.from(copy.score(probe).ensemble)).toEqual(Array.from(m.score(probe).ensemble));
  });

  it('movedTo (a reload that changed one detector) scores exactly as a load of the state without it would, seasonal streams included', () => {
    const before: SeriesModelConfig = { ...config(), seasonal: { minSamplesPerSlot: 3, memory: 240 }, seasonalModels: ['zscore', 'mad'] };
    const mad = { threshold: 7, minSamples: 30, contamination: 0.01, adaptSamples: 30 };
    // The mad detector's options change; the value stream is still needed (the forest scores values).
    const after: SeriesModelConfig = { ...before, detectors: { ...before.detectors, mad } };
    const times = Float64Array.from({ length: 2000 }, (_, i) => 1_700_000_000 + i * 300);
    const slots = Uint8Array.from(times, (t) => Math.floor(t / 3600) % 168);
    const values = Float64Array.from(noisy(2000, 10, 1), (v, i) => v + 3 * Math.sin((2 * Math.PI * i) / 288));
    const m = new SeriesModel(before);
    m.fit(values.subarray(0, 1900), 0, { times: times.subarray(0, 1900), slots: slots.subarray(0, 1900) });
    m.score(values.subarray(1900, 1950), slots.subarray(1900, 1950));
    const keep = (d: string) => d !== 'mad';
    const loaded = SeriesModel.load(keepDetectorStates(structuredClone(m.toState()), keep), after);
    const moved = m.movedTo(after, keep);
    expect(moved.fullyFitted).toBe(false); // mad starts fresh under its new options
    const probe = values.subarray(1950);
    const a = moved.score(probe, slots.subarray(1950));
    const b = loaded.score(probe, slots.subarray(1950));
    expect(Array.from(a.ensemble)).toEqual(Array.from(b.ensemble));
    expect(Array.from(a.upper)).toEqual(Array.from(b.upper));
    for (const name of Object.keys(b.models)) expect(Array.from(a.models[name])).toEqual(Array.from(b.models[name]));
    expect(Array.from(a.models.mad).every((v) => v === 0)).toBe(true);
    expect(Array.from(a.models.zscore).some((v) => v > 0)).toBe(true);
    // Without the value stream before (every detector on residuals), the moved model starts it from the residuals' stream, as a load does.
    const residualsOnly: SeriesModelConfig = { ...before, seasonalModels: undefined };
    const r = new SeriesModel(residualsOnly);
    r.fit(values.subarray(0, 1900), 0, { times: times.subarray(0, 1900), slots: slots.subarray(0, 1900) });
    const rLoaded = SeriesModel.load(keepDetectorStates(structuredClone(r.toState()), keep), { ...after, seasonalModels: ['zscore'] });
    const rMoved = r.movedTo({ ...after, seasonalModels: ['zscore'] }, keep);
    expect(Array.from(rMoved.score(probe, slots.subarray(1950)).ensemble)).toEqual(Array.from(rLoaded.score(probe, slots.subarray(1950)).ensemble));
  });

  it('adoptFit keeps a previous fit for a detector the new fit could not make', () => {
    const m = new SeriesModel(config());
    m.fit(noisy(500, 10, 1), 5);
    const short = new SeriesModel(config());
    short.fit(noisy(10, 10, 1), 6);
    m.adoptFit(short);
    expect(m.warm).toBe(true);
    expect(m.score(Float64Array.from([100])).ensemble[0]).toBeGreaterThan(1);
  });
});

describe('online updates', () => {
  const band = (adaptSamples: number) =>
    new SeriesModel({ ...config(), detectors: { zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples } } });

  it('does not learn an ongoing shift outside the band: 60 samples 10 spreads up all score above 1', () => {
    const m = band(30);
    m.fit(noisy(500, 100, 2), 0); // uniform-sum noise: spread about 1
    const s = m.score(noisy(60, 110, 2, 7)).ensemble;
    expect(Math.min(...Array.from(s))).toBeGreaterThan(1);
  });

  it('follows a slow drift that stays within the band, where a fixed fit would alarm', () => {
    const drift = (n: number) => Float64Array.from(noisy(n, 100, 2, 9), (v, i) => v + 0.02 * i); // 8 spreads over 400 samples
    const adapting = band(30);
    const fixed = band(0);
    adapting.fit(noisy(500, 100, 2), 0);
    fixed.fit(noisy(500, 100, 2), 0);
    const values = drift(400);
    expect(Math.max(...Array.from(adapting.score(values).ensemble))).toBeLessThanOrEqual(1);
    expect(Math.max(...Array.from(fixed.score(values).ensemble.subarray(300)))).toBeGreaterThan(1);
  });

  it('a lone spike does not move the band', () => {
    const m = band(30);
    m.fit(noisy(500, 100, 2), 0);
    const before = m.score(Float64Array.from([100])).upper[0];
    m.score(Float64Array.from([200]));
    const after = m.score(Float64Array.from([100])).upper[0];
    expect(after - 100).toBeLessThan((before - 100) * 1.05);
  });

  it('keeps the fit fixed with adapt_samples 0', () => {
    const m = band(0);
    m.fit(noisy(500, 100, 2), 0);
    const s = m.score(noisy(60, 110, 2, 7)).ensemble;
    expect(Math.min(...Array.from(s))).toBeGreaterThan(1);
  });
});

describe('the band and the alerting score agree', () => {
  /** The default ensemble's shape: the pattern model, the z-score and the jump model vote, the MAD is published only. */
  const voting = (scale?: Record<string, number>, scoring: Partial<ScoreOptions> = {}): SeriesModelConfig => ({
    ...config(scoring),
    detectors: {
      zscore: { threshold: 6.5, minSamples: 30, contamination: 0.001, adaptSamples: 120 },
      mad: { threshold: 5, minSamples: 30, contamination: 0.01, adaptSamples: 30 },
      pattern: { window: 8, history: 1000, factor: 1.25, minSamples: 20 },
      jump: { window: 3, factor: 1.75, calibration: 1000, minSamples: 30 },
    },
    ensembleModels: ['pattern', 'zscore', 'jump'],
    ensembleScale: scale,
  });

  /** The band the next sample is scored against, read from a copy of the model (scoring moves the model). */
  const nextBand = (m: SeriesModel, cfg: SeriesModelConfig, probe: number) => {
    const s = SeriesModel.load(m.toState(), cfg).score(Float64Array.of(probe));
    return { lower: s.lower[0], upper: s.upper[0] };
  };

  it('a value held just outside the drawn band for hold_samples (10) scores above 1 on every sample, either side, any scale', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0.5, max: 50, noNaN: true }),
        fc.boolean(),
        fc.constantFrom(undefined, { zscore: 0.5 }, { zscore: 2 }),
        (seed, noise, above, scale) => {
          const cfg = voting(scale);
          const m = new SeriesModel(cfg);
          m.fit(noisy(600, 1000, noise, seed), 0);
          m.score(noisy(50, 1000, noise, seed + 1));
          for (let k = 0; k < 10; k++) {
            const band = nextBand(m, cfg, 1000);
            const width = band.upper - band.lower;
            const outside = above ? band.upper + 0.01 * width : band.lower - 0.01 * width;
            expect(m.score(Float64Array.of(outside)).ensemble[0]).toBeGreaterThan(1);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('is made of the voting models only: a model published but not voting does not narrow it', () => {
    const withMad = voting();
    const m = new SeriesModel(withMad);
    m.fit(noisy(600, 100, 4, 3), 0);
    const s = m.score(Float64Array.of(100));
    const { mad: _mad, ...voters } = withMad.detectors;
    const zOnly = new SeriesModel({ ...withMad, detectors: voters });
    zOnly.fit(noisy(600, 100, 4, 3), 0);
    const z = zOnly.score(Float64Array.of(100));
    expect(s.upper[0]).toBeCloseTo(z.upper[0], 9);
    expect(s.lower[0]).toBeCloseTo(z.lower[0], 9);
  });

  it('publishes a bounded score: a series that never moved scores MAX_SCORE on its first change, not millions', () => {
    const m = new SeriesModel(voting());
    m.fit(new Float64Array(600).fill(3), 0);
    const s = m.score(Float64Array.of(3, 3.001, 4000));
    expect(s.ensemble[0]).toBe(0);
    expect(s.ensemble[1]).toBe(MAX_SCORE);
    expect(s.ensemble[2]).toBe(MAX_SCORE);
    for (const model of Object.values(s.models)) expect(Math.max(...Array.from(model))).toBeLessThanOrEqual(MAX_SCORE);
  });

  it('is not drawn below 0 for a series that never went below 0, and is for one that did', () => {
    const positive = Float64Array.from(noisy(600, 2, 8, 5), (v) => Math.abs(v));
    const m = new SeriesModel(voting());
    m.fit(positive, 0);
    expect(m.score(Float64Array.of(1)).lower[0]).toBe(0);
    const signed = new SeriesModel(voting());
    signed.fit(noisy(600, 2, 8, 5), 0);
    expect(signed.score(Float64Array.of(1)).lower[0]).toBeLessThan(0);
  });
});
