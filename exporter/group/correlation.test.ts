import fc from 'fast-check';
import { sampleCorrelation, sampleRankCorrelation } from 'simple-statistics';
import { correlate } from './correlation';

/** Pairs on a shared time grid, with some samples missing on either side. */
const pairs = fc
  .array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.boolean(), fc.boolean()), {
    minLength: 0,
    maxLength: 300,
  })
  .map((rows) => {
    const a = { ts: [] as number[], values: [] as number[] };
    const b = { ts: [] as number[], values: [] as number[] };
    rows.forEach(([small, big, inA, inB], i) => {
      // Small integers make ties (Spearman's midranks); large doubles make rounding.
      if (inA || !inB) {
        a.ts.push(i * 15);
        a.values.push(i % 3 === 0 ? small : big);
      }
      if (inB || !inA) {
        b.ts.push(i * 15);
        b.values.push(i % 4 === 0 ? -small : big / 3 + small);
      }
    });
    return { a, b };
  });

/** The reference: simple-statistics over the inner join, with the same rules for too few or constant samples. */
function reference(
  a: { ts: number[]; values: number[] },
  b: { ts: number[]; values: number[] },
  method: 'pearson' | 'spearman',
  min: number,
): number | undefined {
  const x: number[] = [];
  const y: number[] = [];
  a.ts.forEach((t, i) => {
    const j = b.ts.indexOf(t);
    if (j < 0) return;
    x.push(a.values[i]);
    y.push(b.values[j]);
  });
  if (x.length < Math.max(3, min) || x.every((v) => v === x[0]) || y.every((v) => v === y[0])) return undefined;
  const r = method === 'pearson' ? sampleCorrelation(x, y) : sampleRankCorrelation(x, y);
  return Number.isFinite(r) ? Math.max(-1, Math.min(1, r)) : undefined;
}

describe('correlate', () => {
  it('agrees with simple-statistics to 1e-9 on any pairs, ties, gaps and scales (Pearson and Spearman)', () => {
    fc.assert(
      fc.property(pairs, fc.constantFrom('pearson' as const, 'spearman' as const), fc.integer({ min: 3, max: 40 }), ({ a, b }, method, min) => {
        const got = correlate(a, b, method, min);
        const want = reference(a, b, method, min);
        if (want === undefined) return got === undefined;
        return got !== undefined && Math.abs(got - want) <= 1e-9;
      }),
      { numRuns: 400 },
    );
  });

  it('does not depend on the order of tied pairs, and gives the textbook values', () => {
    const ts = [0, 1, 2, 3, 4, 5];
    expect(correlate({ ts, values: [1, 2, 2, 3, 4, 5] }, { ts, values: [6, 5, 5, 4, 3, 2] }, 'spearman', 3)).toBeCloseTo(-1, 12);
    expect(correlate({ ts, values: [1, 2, 3, 4, 5, 6] }, { ts, values: [2, 4, 6, 8, 10, 13] }, 'pearson', 3)).toBeCloseTo(0.99705014106599, 12);
    // A longer join than any before: the scratch grows.
    const long = Array.from({ length: 5000 }, (_, i) => i);
    expect(correlate({ ts: long, values: long.map((i) => Math.sin(i)) }, { ts: long, values: long.map((i) => Math.sin(i)) }, 'spearman', 3)).toBeCloseTo(1, 12);
  });
});
