import { bandHalfWidth, deviationScore, gateScore } from './deviation-score';
import { combineScores } from './ensemble';
import { MadDetector } from './mad-detector';
import { DEFAULT_SCORE_OPTIONS, columnMatrix } from './types';
import { ZScoreDetector } from './zscore-detector';

describe('the common score scale', () => {
  it('is 0 at the expected value, 1 at the band edge and above 1 outside', () => {
    const half = bandHalfWidth(10, 2, 3, DEFAULT_SCORE_OPTIONS);
    expect(half).toBe(6);
    expect(deviationScore(10, 10, half, DEFAULT_SCORE_OPTIONS)).toBe(0);
    expect(deviationScore(16, 10, half, DEFAULT_SCORE_OPTIONS)).toBe(1);
    expect(deviationScore(4, 10, half, DEFAULT_SCORE_OPTIONS)).toBe(1);
    expect(deviationScore(22, 10, half, DEFAULT_SCORE_OPTIONS)).toBe(2);
  });

  it('widens the band to min_deviation and min_relative_deviation', () => {
    expect(bandHalfWidth(10, 0.1, 3, { ...DEFAULT_SCORE_OPTIONS, minDeviation: 1 })).toBe(1);
    expect(bandHalfWidth(100, 0.1, 3, { ...DEFAULT_SCORE_OPTIONS, minRelativeDeviation: 0.2 })).toBeCloseTo(20);
  });

  it('gates a band-less score by direction and minimum deviation', () => {
    const above = { ...DEFAULT_SCORE_OPTIONS, direction: 'above' as const, minDeviation: 0.1 };
    expect(gateScore(5, 0.9, 1, above)).toBe(0);
    expect(gateScore(5, 1.05, 1, above)).toBeCloseTo(0.5);
    expect(gateScore(5, 1.5, 1, above)).toBe(5);
  });

  it('zscore and mad agree on clean data; mad ignores a few outliers in training', () => {
    const clean = Float64Array.from({ length: 101 }, (_, i) => 100 + ((i % 11) - 5));
    const dirty = Float64Array.from(clean);
    dirty[3] = 10_000;
    dirty[50] = -10_000;
    const opts = { threshold: 3, minSamples: 10, contamination: 0.05, adaptSamples: 0 };
    const z = new ZScoreDetector(opts, DEFAULT_SCORE_OPTIONS);
    const m = new MadDetector(opts, DEFAULT_SCORE_OPTIONS);
    z.fit(columnMatrix(dirty));
    m.fit(columnMatrix(dirty));
    const probe = columnMatrix(Float64Array.from([130]));
    expect(m.score(probe).score[0]).toBeGreaterThan(1);
    // The outliers inflate sigma so much that the plain z-score misses the same point.
    expect(z.score(probe).score[0]).toBeLessThan(1);
  });

  it('max ensemble intersects the bands and takes the largest score', () => {
    const a = { score: Float64Array.from([0.5]), expected: Float64Array.from([10]), lower: Float64Array.from([8]), upper: Float64Array.from([12]) };
    const b = { score: Float64Array.from([1.5]), expected: Float64Array.from([11]), lower: Float64Array.from([9]), upper: Float64Array.from([13]) };
    const c = { score: Float64Array.from([0.2]) };
    const r = combineScores([a, b, c], 'max', 1);
    expect(r.score[0]).toBe(1.5);
    expect([r.lower[0], r.expected[0], r.upper[0]]).toEqual([9, 10.5, 12]);
    const mean = combineScores([a, b, c], 'mean', 1);
    expect(mean.score[0]).toBeCloseTo(2.2 / 3);
    expect([mean.lower[0], mean.upper[0]]).toEqual([8.5, 12.5]);
  });
});
