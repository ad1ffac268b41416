import fc from 'fast-check';
import { Prng } from './prng';
import { SeriesModel, SeriesModelConfig } from './series-model';
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

  it('a level shift of 10 spreads that holds falls back below 1 within 30 samples (adapt_samples 30)', () => {
    const m = band(30);
    m.fit(noisy(500, 100, 2), 0); // uniform-sum noise: spread about 1
    const shifted = noisy(60, 110, 2, 7);
    const s = m.score(shifted).ensemble;
    expect(s[0]).toBeGreaterThan(1);
    const firstNormal = Array.from(s).findIndex((v) => v <= 1);
    expect(firstNormal).toBeGreaterThan(0);
    expect(firstNormal).toBeLessThanOrEqual(30);
    expect(Math.max(...Array.from(s.subarray(firstNormal + 5)))).toBeLessThanOrEqual(1);
  });

  it('a lone spike barely moves the band', () => {
    const m = band(30);
    m.fit(noisy(500, 100, 2), 0);
    const before = m.score(Float64Array.from([100])).upper[0];
    m.score(Float64Array.from([200]));
    const after = m.score(Float64Array.from([100])).upper[0];
    expect(after - 100).toBeLessThan((before - 100) * 1.25);
  });

  it('keeps the fit fixed with adapt_samples 0', () => {
    const m = band(0);
    m.fit(noisy(500, 100, 2), 0);
    const s = m.score(noisy(60, 110, 2, 7)).ensemble;
    expect(Math.min(...Array.from(s))).toBeGreaterThan(1);
  });
});
