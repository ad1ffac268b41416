import { Prng } from './prng';
import { SeasonalProfile } from './seasonal-profile';
import { SeriesModel, SeriesModelConfig } from './series-model';
import { DEFAULT_SCORE_OPTIONS } from './types';

const HOUR = 3600;
const STEP = 300; // 5-minute samples
const MONDAY = Date.UTC(2024, 0, 1) / 1000;

function config(seasonal: boolean): SeriesModelConfig {
  return {
    detectors: {
      zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples: 0 },
      mad: { threshold: 5, minSamples: 30, contamination: 0.01, adaptSamples: 0 },
    },
    seasonal: seasonal ? { minSamplesPerSlot: 3, memory: 240 } : undefined,
    combine: 'median',
    scoring: DEFAULT_SCORE_OPTIONS,
    levelAlpha: 0.1,
  };
}

/** UTC hour-of-week slots (the exporter computes them in the configured zone). */
const slotsOf = (times: Float64Array) => Uint8Array.from(times, (t) => Math.floor(((t - MONDAY) / HOUR) % 168));

function series(fromS: number, n: number, f: (t: number) => number, seed = 1) {
  const rng = new Prng(seed);
  const times = Float64Array.from({ length: n }, (_, i) => fromS + i * STEP);
  const values = Float64Array.from(times, (t) => f(t) + (rng.next() + rng.next() - 1));
  return { times, values, slots: slotsOf(times) };
}

const daily = (t: number) => 100 + 50 * Math.sin((2 * Math.PI * ((t - MONDAY) % 86400)) / 86400);

describe('seasonal profile', () => {
  it('a daily cycle does not fire, and a spike inside the daily range is found only with the profile', () => {
    // Four days: the profile is learned as it goes, so the first day's residuals still hold the cycle.
    const train = series(MONDAY, 4 * 288, daily);
    const test = series(MONDAY + 4 * 86400, 288, daily, 2);
    const trough = 216; // 18:00, near the minimum of the cycle
    test.values[trough] += 40; // still well inside the daily range (50..150)
    for (const seasonal of [true, false]) {
      const m = new SeriesModel(config(seasonal));
      m.fit(train.values, 0, { times: train.times, slots: train.slots });
      const s = m.score(test.values, test.slots).ensemble;
      const normal = Array.from(s).filter((_, i) => i !== trough);
      expect(Math.max(...normal)).toBeLessThanOrEqual(1);
      if (seasonal) expect(s[trough]).toBeGreaterThan(1);
      else expect(s[trough]).toBeLessThan(1);
    }
  });

  it('learns a weekly cycle across 24 h fits: the second weekend is expected, the first was news', () => {
    const weekly = (t: number) => {
      const day = Math.floor(((t - MONDAY) % (7 * 86400)) / 86400);
      return day >= 5 ? 40 : 100; // quiet weekends
    };
    const m = new SeriesModel(config(true));
    const firstSaturday: number[] = [];
    const secondSaturday: number[] = [];
    // Nine days, refitting every day on the last 24 h only; score each following day.
    for (let day = 1; day < 13; day++) {
      const train = series(MONDAY + (day - 1) * 86400, 288, weekly, day);
      m.fit(train.values, 0, { times: train.times, slots: train.slots });
      const test = series(MONDAY + day * 86400, 288, weekly, 100 + day);
      const s = m.score(test.values, test.slots).ensemble;
      if (day === 5) firstSaturday.push(...s);
      if (day === 12) secondSaturday.push(...s);
    }
    expect(Math.max(...firstSaturday)).toBeGreaterThan(1);
    expect(Math.max(...secondSaturday)).toBeLessThanOrEqual(1);
  });

  it('trains a refit on the whole window when the profile completes its first day inside it', () => {
    // First fit: 23 h 55 m of samples (the profile does not know its hours yet); refit 40 samples later.
    const s = series(MONDAY, 328, daily);
    const m = new SeriesModel(config(true));
    m.fit(s.values.subarray(0, 288), 0, { times: s.times.subarray(0, 288), slots: s.slots.subarray(0, 288) });
    m.score(s.values.subarray(288), s.slots.subarray(288));
    const refit = SeriesModel.withSeasonal(config(true), m.seasonalState);
    refit.fit(s.values.subarray(40), 1, { times: s.times.subarray(40), slots: s.slots.subarray(40) });
    expect(refit.toJSON().detectors.map((d) => d.nSamples)).toEqual([288, 288]);
  });

  it('saves and loads the profile with the model', () => {
    const train = series(MONDAY, 2 * 288, daily);
    const m = new SeriesModel(config(true));
    m.fit(train.values, 0, { times: train.times, slots: train.slots });
    const copy = SeriesModel.load(JSON.parse(JSON.stringify(m.toJSON())), config(true));
    const test = series(MONDAY + 2 * 86400, 50, daily, 3);
    expect(Array.from(copy.score(test.values, test.slots).ensemble)).toEqual(Array.from(m.score(test.values, test.slots).ensemble));
  });

  it('keeps its slot weights as whole numbers, so a profile saved with Float64 weights (before) loads to the same offsets', () => {
    const opts = { minSamplesPerSlot: 3, memory: 5 };
    const p = new SeasonalProfile(opts);
    const train = series(MONDAY, 6 * 288, daily);
    p.learn(train.values, train.times, train.slots);
    const state = p.toState();
    // The weights capped at memory (5) per hour of week, 7 × 5 per hour of day.
    expect(Math.max(...state.weekWeight)).toBe(5);
    expect(Math.max(...state.dayWeight)).toBe(35);
    expect(Array.from(state.weekWeight).every(Number.isInteger)).toBe(true);
    const before = SeasonalProfile.load({ ...state, weekWeight: Float64Array.from(state.weekWeight), dayWeight: Float64Array.from(state.dayWeight) }, opts);
    for (let slot = 0; slot < 168; slot++) expect(before.offset(slot)).toBe(p.offset(slot));
  });
});
