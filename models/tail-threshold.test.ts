import fc from 'fast-check';
import { Prng } from './prng';
import { sortedQuantile } from './quantile';
import { gpdFit, TAIL_LEVEL, tailThreshold } from './tail-threshold';

/** n exponential(1) samples, sorted: the true quantile at risk q is -ln q. */
function exponential(n: number, seed: number): Float64Array {
  const rng = new Prng(seed);
  return Float64Array.from({ length: n }, () => -Math.log(1 - rng.next())).sort();
}

/** n Pareto samples with shape xi (tail index 1/xi) over scale 1, sorted: quantile at risk q is (q^-xi - 1) / xi. */
function pareto(n: number, xi: number, seed: number): Float64Array {
  const rng = new Prng(seed);
  return Float64Array.from({ length: n }, () => (Math.pow(1 - rng.next(), -xi) - 1) / xi).sort();
}

describe('tailThreshold (peaks over threshold)', () => {
  it('estimates the quantile of an exponential tail at a risk as rare as the largest sample', () => {
    // 10,000 samples (200 peaks): the 1e-4 quantile is 9.2, about where the largest lies.
    for (const seed of [1, 2, 3, 4, 5]) {
      const x = exponential(10000, seed);
      const t = tailThreshold(x, 1e-4);
      expect(Math.abs(t / -Math.log(1e-4) - 1)).toBeLessThan(0.25);
    }
  });

  it('follows a heavy tail: the quantile of a Pareto with shape 0.3 within 35 %', () => {
    const q = 1e-4;
    const truth = (Math.pow(q, -0.3) - 1) / 0.3;
    for (const seed of [4, 5, 6]) {
      const t = tailThreshold(pareto(5000, 0.3, seed), q);
      expect(Math.abs(t / truth - 1)).toBeLessThan(0.35);
    }
  });

  it('answers a risk inside the sample with the plain quantile', () => {
    const x = exponential(1000, 7);
    expect(tailThreshold(x, 0.1)).toBeCloseTo(sortedQuantile(x, 0.9), 12);
  });

  it('is the value itself on a constant history, and 0 on none', () => {
    expect(tailThreshold(new Float64Array(100).fill(3), 1e-4)).toBe(3);
    expect(tailThreshold(new Float64Array(0), 1e-4)).toBe(0);
  });

  it('rises as the risk falls and never falls below the tail level quantile, for any scores', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 400 }), (xs) => {
        const x = Float64Array.from(xs).sort();
        const a = tailThreshold(x, 1e-2);
        const b = tailThreshold(x, 1e-4);
        expect(Number.isFinite(b)).toBe(true);
        expect(b).toBeGreaterThanOrEqual(a - 1e-9 * Math.max(1, a));
        expect(b).toBeGreaterThanOrEqual(sortedQuantile(x, TAIL_LEVEL) - 1e-9 * Math.max(1, b));
      }),
    );
  });

  it('fits the shape of generalised Pareto excesses', () => {
    const x = pareto(20000, 0.2, 8);
    expect(gpdFit(x, 0, 0).shape).toBeCloseTo(0.2, 1);
    expect(gpdFit(exponential(20000, 9), 0, 0).shape).toBeCloseTo(0, 1);
  });
});
