import fc from 'fast-check';
import { PatternDetector, PatternOptions } from './pattern-detector';
import { Prng } from './prng';
import { SeriesModel, SeriesModelConfig } from './series-model';
import { columnMatrix, DEFAULT_SCORE_OPTIONS, ScoreOptions } from './types';
import { encodeState } from './typed-array-codec';
import golden from './fixtures/pattern-golden.json';

const OPTS: PatternOptions = { window: 8, history: 1000, factor: 1.25, minSamples: 20 };

function detector(scoring: Partial<ScoreOptions> = {}, opts: Partial<PatternOptions> = {}): PatternDetector {
  return new PatternDetector({ ...OPTS, ...opts }, { ...DEFAULT_SCORE_OPTIONS, ...scoring });
}

/** A daily-style cycle of `period` samples with a sharp jump once per period, plus noise. */
function cycle(n: number, period: number, seed: number, noise = 0.5): Float64Array {
  const rng = new Prng(seed);
  return Float64Array.from({ length: n }, (_, i) => {
    const phase = i % period;
    return 20 + 10 * Math.sin((2 * Math.PI * phase) / period) + (phase >= period / 2 && phase < period / 2 + 6 ? 40 : 0) + noise * (rng.next() - 0.5);
  });
}

const score = (d: PatternDetector, values: Float64Array) => d.score(columnMatrix(values)).score;
const max = (a: Float64Array, from = 0, to = a.length) => Math.max(...a.subarray(from, to));

describe('PatternDetector', () => {
  it('does not flag a repeating cycle it has seen, jumps included', () => {
    const d = detector();
    d.fit(columnMatrix(cycle(300, 100, 1)));
    const s = score(d, cycle(900, 100, 2).subarray(300));
    expect(max(s)).toBeLessThanOrEqual(1);
  });

  it('flags a missing jump and a flat spell, though every value stays within the usual range', () => {
    for (const fault of ['no_jump', 'flat'] as const) {
      const d = detector();
      const values = cycle(1200, 100, 3);
      d.fit(columnMatrix(values.subarray(0, 400)));
      if (fault === 'no_jump')
        for (let i = 850; i < 856; i++) values[i] -= 40; // the jump at 850 does not come
      else values.fill(values[700], 700, 760); // a stuck sensor
      const s = score(d, values.subarray(400));
      expect(max(s, 0, 290)).toBeLessThanOrEqual(1);
      const at = fault === 'no_jump' ? 450 : 300;
      expect(max(s, at, at + 20)).toBeGreaterThan(1);
    }
  });

  it('flags a level shift and a spike once, then calibrates to them instead of alarming on every sample', () => {
    const rng = new Prng(5);
    const values = Float64Array.from({ length: 1500 }, (_, i) => (i >= 1000 ? 60 : 50) + rng.next());
    values[700] = 58;
    const d = detector();
    d.fit(columnMatrix(values.subarray(0, 200)));
    const s = score(d, values.subarray(200));
    expect(s[500]).toBeGreaterThan(1); // the spike at 700
    expect(max(s, 0, 500)).toBeLessThanOrEqual(1);
    expect(max(s, 800, 805)).toBeGreaterThan(1); // the shift at 1000
    let flagged = 0;
    for (const x of s) if (x > 1) flagged++;
    expect(flagged).toBeLessThanOrEqual(6);
  });

  it('honours the direction: with `above`, a drop scores 0 and a larger rise after it still counts', () => {
    const rng = new Prng(6);
    const values = Float64Array.from({ length: 400 }, () => 50 + rng.next());
    values[300] = 35;
    values[350] = 70;
    const d = detector({ direction: 'above' });
    d.fit(columnMatrix(values.subarray(0, 100)));
    const s = score(d, values.subarray(100));
    expect(s[200]).toBe(0);
    expect(s[250]).toBeGreaterThan(1);
  });

  it('never scores above 1 while the change stays within the minimum deviation', () => {
    const rng = new Prng(7);
    const values = Float64Array.from({ length: 400 }, () => 0.1 + 0.001 * rng.next());
    values[300] = 0.13; // 30 ms on a 100 ms latency: a new shape, but under min_deviation 50 ms
    const d = detector({ minDeviation: 0.05 });
    d.fit(columnMatrix(values.subarray(0, 100)));
    expect(max(score(d, values.subarray(100)))).toBeLessThanOrEqual(1);
  });

  it('remembers a burst for `calibration` samples, beyond its search history: the same burst a day later does not alarm', () => {
    // A flat noisy series with one burst of 2.5× a "day" (600 samples) apart, search history 300.
    const rng = new Prng(11);
    const values = Float64Array.from({ length: 1400 }, () => 20 + rng.next());
    for (const at of [400, 1000]) for (let k = 0; k < 5; k++) values[at + k] *= 2.5;
    const run = (calibration?: number): Float64Array => {
      const d = detector({}, { history: 300, calibration });
      d.fit(columnMatrix(values.subarray(0, 100)));
      return score(d, values.subarray(100));
    };
    const second = (s: Float64Array) => max(s.subarray(1000 - 100, 1010 - 100));
    expect(max(run().subarray(400 - 100, 410 - 100))).toBeGreaterThan(1);
    expect(second(run())).toBeGreaterThan(1);
    expect(second(run(700))).toBeLessThanOrEqual(1);
  });

  it('gives finite scores for any finite input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), { minLength: 20, maxLength: 300 }),
        fc.integer({ min: 20, max: 100 }),
        (values, split) => {
          const v = Float64Array.from(values);
          const d = detector({}, { history: 64 });
          const k = Math.min(split, v.length);
          d.fit(columnMatrix(v.subarray(0, k)));
          for (const x of score(d, v.subarray(k))) expect(Number.isFinite(x) && x >= 0).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('continues identically after a save and load, also past a buffer compaction', () => {
    const values = cycle(3000, 100, 8);
    const a = detector({}, { history: 300 });
    a.fit(columnMatrix(values.subarray(0, 400)));
    score(a, values.subarray(400, 1111));
    const b = PatternDetector.load(JSON.parse(JSON.stringify(a.toJSON())), a.opts, a.scoring);
    const rest = values.subarray(1111);
    expect(Array.from(score(b, rest))).toEqual(Array.from(score(a, rest)));
  });

  it('restores over a longer or shorter calibration span and goes on scoring', () => {
    const values = cycle(2000, 100, 8);
    const a = detector({}, { history: 300 });
    a.fit(columnMatrix(values.subarray(0, 400)));
    score(a, values.subarray(400, 1000));
    const saved = JSON.parse(JSON.stringify(a.toJSON()));
    for (const calibration of [100, 1440]) {
      const b = PatternDetector.load(saved, { ...a.opts, calibration }, a.scoring);
      const s = score(b, values.subarray(1000));
      expect(s.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
      expect(max(s)).toBeLessThanOrEqual(1);
    }
  });

  it('is kept across refits of its series model: the stream goes on as if there was no refit', () => {
    const config: SeriesModelConfig = {
      detectors: { zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples: 30 }, pattern: OPTS },
      combine: 'max',
      scoring: DEFAULT_SCORE_OPTIONS,
      levelAlpha: 0.1,
    };
    const values = cycle(1500, 100, 9);
    values[1200] += 30;
    const once = new SeriesModel(config);
    const refitted = new SeriesModel(config);
    once.fit(values.subarray(0, 300), 0);
    refitted.fit(values.subarray(0, 300), 0);
    const a1 = once.score(values.subarray(300, 800)).models.pattern;
    const b1 = refitted.score(values.subarray(300, 800)).models.pattern;
    expect(refitted.fit(values.subarray(200, 800), 1).fitted).toContain('pattern');
    const a2 = once.score(values.subarray(800)).models.pattern;
    const b2 = refitted.score(values.subarray(800)).models.pattern;
    expect(Array.from(b1)).toEqual(Array.from(a1));
    expect(Array.from(b2)).toEqual(Array.from(a2));
    expect(a2[400]).toBeGreaterThan(1);
  });

  it('is left out of a fit made elsewhere when the caller has it, and adoptFit keeps the caller’s', () => {
    const config: SeriesModelConfig = {
      detectors: { zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples: 30 }, pattern: OPTS },
      combine: 'max',
      scoring: DEFAULT_SCORE_OPTIONS,
      levelAlpha: 0.1,
    };
    const values = cycle(900, 100, 10);
    const main = new SeriesModel(config);
    main.fit(values.subarray(0, 300), 0);
    main.score(values.subarray(300, 600));
    expect(main.onlineFitted).toBe(true);
    const worker = new SeriesModel(config);
    worker.fit(values.subarray(0, 600), 1, undefined, true);
    const before = JSON.stringify(main.toJSON().detectors.find((d) => d.name === 'pattern'));
    main.adoptFit(SeriesModel.load(worker.toState(), config));
    expect(JSON.stringify(main.toJSON().detectors.find((d) => d.name === 'pattern'))).toBe(before);
  });

  it('rejects a history shorter than two windows', () => {
    expect(() => detector({}, { window: 10, history: 15 })).toThrow(/history/);
  });

  // The stated tolerance of the Float32 history: scores within 1e-5 (relative above 1) of what the
  // values exactly would score. A score's error is about 2^-23 times the history's range over the
  // distances it is calibrated on (about 100 here): measured at most 5e-7 against the Float64
  // version and 1.5e-6 between two approximations (a level shift).
  const TOLERANCE = 1e-5;

  it('scores within 1e-5 of its Float64 version (fixtures/pattern-golden.json), at any level: near 0, 1e6, 1.7e9 and 1e-3', () => {
    // Its history is kept as Float32 offsets from a moving base; Float32 alone would be off by
    // far more at 1.7e9, where it keeps a value to ±64.
    for (const c of Object.values(golden.cases)) {
      const d = new PatternDetector(golden.options, DEFAULT_SCORE_OPTIONS);
      const x = Float64Array.from(c.values);
      d.fit(columnMatrix(x.subarray(0, golden.fit)));
      const got = score(d, x.subarray(golden.fit));
      expect(got.length).toBe(c.scores.length);
      let worst = 0;
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - c.scores[i]) / Math.max(1, c.scores[i]))));
      expect(worst).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('scores a series shifted by any level as the series itself, to 1e-5 (what it keeps is relative to the series, not to 0)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 1, max: 1000 }), (level, seed) => {
        const values = cycle(1500, 100, seed);
        const a = detector();
        const b = detector();
        a.fit(columnMatrix(values.subarray(0, 300)));
        b.fit(columnMatrix(values.subarray(0, 300).map((v) => v + level)));
        const sa = score(a, values.subarray(300));
        const sb = score(
          b,
          values.subarray(300).map((v) => v + level),
        );
        sa.forEach((v, i) => expect(Math.abs(sb[i] - v)).toBeLessThanOrEqual(TOLERANCE * Math.max(1, v)));
      }),
      { numRuns: 20 },
    );
  });

  it('saves and loads before it has kept any value (its base is not set yet)', () => {
    const a = detector();
    const b = PatternDetector.load(JSON.parse(JSON.stringify(a.toJSON())), a.opts, a.scoring);
    expect(b.fitted).toBe(false);
    b.fit(columnMatrix(cycle(300, 100, 5)));
    expect(max(score(b, cycle(600, 100, 6).subarray(300)))).toBeLessThanOrEqual(1);
  });

  it('loads a version 1 state (values saved as Float64) and goes on scoring, to 1e-4 of the state it came from', () => {
    const values = cycle(2000, 100, 9);
    const a = detector();
    a.fit(columnMatrix(values.subarray(0, 1200)));
    const v2 = a.toState();
    const { offsets, base, distances } = v2.state as { offsets: Float32Array; base: number; distances: unknown };
    const v1 = { ...v2, version: 1, state: { values: Float64Array.from(offsets, (o) => o + base), distances } };
    const b = PatternDetector.load(JSON.parse(JSON.stringify(encodeState(v1))), a.opts, a.scoring);
    const rest = values.subarray(1200);
    const sa = score(a, rest);
    // Re-kept against another base, compacted at other times: two roundings on each side (measured 1.0e-5).
    score(b, rest).forEach((v, i) => expect(Math.abs(v - sa[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, sa[i])));
  });
});
