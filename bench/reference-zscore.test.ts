import fc from 'fast-check';
import { referenceZScore } from './reference-zscore';

/** The definition, computed naively: mean and population σ of the previous day's rows. */
function naive(times: number[], values: number[], k: number): number[] {
  const n = values.length;
  const step = n > 1 ? (times[n - 1] - times[0]) / (n - 1) : 60;
  const day = Math.max(30, Math.round(86400 / step));
  return values.map((x, i) => {
    const w = values.slice(Math.max(0, i - day), i);
    if (w.length < 30) return 0;
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    return sd > 0 ? Math.abs(x - mean) / sd / k : x !== mean ? 10 : 0;
  });
}

describe('reference 1-day z-score', () => {
  it('matches the definition on any series (window of 30 rows at a 48 min step)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 120 }), fc.double({ min: 1, max: 6, noNaN: true }), (vals, k) => {
        const times = vals.map((_, i) => i * 2880);
        const got = Array.from(referenceZScore(times, vals, k));
        naive(times, vals, k).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
      }),
    );
  });

  it('uses a day of rows at a 5-minute step, and scores nothing before 30 rows', () => {
    const times = Array.from({ length: 400 }, (_, i) => i * 300);
    const values: number[] = times.map((_, i) => (i % 2 ? 1 : -1));
    values[350] = 7;
    const s = referenceZScore(times, values, 3);
    expect(s[29]).toBe(0);
    expect(s[30]).toBeGreaterThan(0);
    // σ = 1 over the previous 288 rows (mean 0): 7 is 7 σ, score 7/3.
    expect(s[350]).toBeCloseTo(7 / 3, 6);
  });
});
