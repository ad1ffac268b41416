import fc from 'fast-check';
import { scoringStart, trainingSamples } from './training-window';

const series = (ts: number[], values: number[]) => ({ labels: {}, timestamps: Float64Array.from(ts), values: Float64Array.from(values) });

describe('training window', () => {
  it('trains a new series on all but its newest sample, so the newest is scored by the fit', () => {
    const t = trainingSamples(series([60, 120, 180], [1, 2, 3]), -Infinity)!;
    expect(Array.from(t.values)).toEqual([1, 2]);
    expect(Array.from(t.times)).toEqual([60, 120]);
    expect(t.trainedUntil).toBe(120);
  });

  it('trains a scored series up to its last scored sample, skipping NaN and ±Inf', () => {
    const t = trainingSamples(series([60, 120, 180, 240, 300], [1, NaN, Infinity, 4, 5]), 240)!;
    expect(Array.from(t.values)).toEqual([1, 4]);
    expect(t.trainedUntil).toBe(240);
  });

  it('has nothing to train on without a finite sample before the cutoff', () => {
    expect(trainingSamples(series([60], [1]), -Infinity)).toBeUndefined();
    expect(trainingSamples(series([60, 120], [NaN, 2]), -Infinity)).toBeUndefined();
  });

  it('never trains on a sample after the cutoff (causal), for any series', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.constant(NaN)), { maxLength: 50 }),
        fc.integer({ min: -1, max: 60 }),
        (vals, cut) => {
          const ts = vals.map((_, i) => (i + 1) * 60);
          const cutoff = cut < 0 ? -Infinity : cut * 60;
          const t = trainingSamples(series(ts, vals), cutoff);
          const limit = Number.isFinite(cutoff) ? cutoff : (ts[ts.length - 2] ?? -Infinity);
          const expected = vals.filter((v, i) => Number.isFinite(v) && ts[i] <= limit);
          expect(t ? Array.from(t.values) : []).toEqual(expected);
        },
      ),
    );
  });

  it('reads from just after the oldest scored sample, within the fit window', () => {
    const o = { fitWindowSeconds: 86_400, inferEverySeconds: 60, stepSeconds: 60 };
    expect(scoringStart(-Infinity, 100_000, o)).toBe(100_000 - 60);
    expect(scoringStart(Infinity, 100_000, o)).toBe(100_000 - 60);
    expect(scoringStart(99_000, 100_000, o)).toBe(99_060);
    expect(scoringStart(1_000, 100_000, o)).toBe(100_000 - 86_400);
    expect(scoringStart(100_000, 100_000, o)).toBe(100_000);
  });
});

describe('an incident during a refit', () => {
  const series = {
    labels: {},
    timestamps: Float64Array.from({ length: 100 }, (_, i) => i * 60),
    values: Float64Array.from({ length: 100 }, (_, i) => (i >= 80 ? 50 : 10)),
  };

  it('leaves out the samples of the excluded spans, so the refit does not learn them', () => {
    const t = trainingSamples(series, 99 * 60, [[80 * 60, Infinity]])!;
    expect(t.values.length).toBe(80);
    expect(Math.max(...t.values)).toBe(10);
    // Everything up to the cutoff has been seen: nothing is scored twice after the refit.
    expect(t.trainedUntil).toBe(99 * 60);
    expect(trainingSamples(series, 99 * 60, [[10 * 60, 19 * 60]])!.values.length).toBe(90);
    expect(trainingSamples(series, 99 * 60)!.values.length).toBe(100);
  });

  it('trains on past incidents when leaving them out would leave a flat series, still leaving out the ongoing one', () => {
    // A count of rare events: 0 mostly, 1 now and then. Each 1 scored above 1 once, so each is a
    // past incident; left out, the series would look constant and every next 1 would page.
    const counts = {
      labels: {},
      timestamps: Float64Array.from({ length: 100 }, (_, i) => i * 60),
      values: Float64Array.from({ length: 100 }, (_, i) => (i % 25 === 10 ? 1 : i >= 95 ? 7 : 0)),
    };
    const past: [number, number][] = [10, 35, 60, 85].map((i) => [i * 60, (i + 3) * 60]);
    const t = trainingSamples(counts, 99 * 60, [...past, [95 * 60, Infinity]])!;
    expect(t.values.filter((v) => v === 1).length).toBe(4);
    expect(Math.max(...t.values)).toBe(1);
    expect(t.values.length).toBe(95);
    // Where what is left still varies, the past incidents stay out.
    expect(trainingSamples(series, 99 * 60, [[80 * 60, 90 * 60]])!.values.length).toBe(89);
  });
});
