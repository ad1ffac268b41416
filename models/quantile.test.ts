import fc from 'fast-check';
import { selectMedian, selectQuantile, sortedMedian, sortedQuantile } from './quantile';

const sorted = (xs: number[]) => Float64Array.from(xs).sort();

describe('selection gives the sorted quantile exactly', () => {
  // Few distinct values (ties), wide ranges and long runs: the cases a partition gets wrong.
  const values = fc.oneof(
    fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), { maxLength: 400 }),
    fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 400 }),
    fc.array(fc.constantFrom(0, 1e-300, 5, 5, 5, 1e300), { maxLength: 50 }),
  );

  it('selectQuantile equals sortedQuantile at every p', () => {
    fc.assert(
      fc.property(values, fc.double({ min: 0, max: 1, noNaN: true }), (xs, p) => {
        const want = sortedQuantile(sorted(xs), p);
        const got = selectQuantile(Float64Array.from(xs), p);
        expect(Number.isNaN(want) ? Number.isNaN(got) : got === want).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('selectMedian equals sortedMedian', () => {
    fc.assert(
      fc.property(values, (xs) => {
        const want = sortedMedian(sorted(xs));
        const got = selectMedian(Float64Array.from(xs));
        expect(Number.isNaN(want) ? Number.isNaN(got) : got === want).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('stays exact on sorted, reversed, organ-pipe and alternating orders', () => {
    const n = 5000;
    const orders = [
      Float64Array.from({ length: n }, (_, i) => i),
      Float64Array.from({ length: n }, (_, i) => n - i),
      Float64Array.from({ length: n }, (_, i) => (i < n / 2 ? i : n - i)),
      Float64Array.from({ length: n }, (_, i) => i % 2),
    ];
    for (const a of orders) {
      for (const p of [0, 0.01, 0.5, 0.99, 0.999, 1]) expect(selectQuantile(a.slice(), p)).toBe(sortedQuantile(a.slice().sort(), p));
      expect(selectMedian(a.slice())).toBe(sortedMedian(a.slice().sort()));
    }
  });
});
