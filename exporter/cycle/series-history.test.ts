import fc from 'fast-check';
import { SeriesHistory } from './series-history';

describe('SeriesHistory', () => {
  it('keeps the newest samples, oldest first', () => {
    const h = new SeriesHistory(3);
    for (let t = 1; t <= 5; t++) h.push(t, t * 10, t, t - 1, t + 1, t / 10);
    const a = h.toArrays();
    expect(a.ts).toEqual([3, 4, 5]);
    expect(a.value).toEqual([30, 40, 50]);
    expect(a.upper).toEqual([4, 5, 6]);
    expect(a.score.map((x) => Number(x!.toFixed(3)))).toEqual([0.3, 0.4, 0.5]);
  });

  it('turns a band that is not known yet into gaps, not zeros', () => {
    const h = new SeriesHistory(4);
    h.push(1, 5, NaN, NaN, NaN, 0);
    expect(h.toArrays()).toMatchObject({ value: [5], expected: [null], lower: [null], upper: [null], score: [0] });
  });

  it('holds min(pushed, capacity) samples in time order for any sequence', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 200 }), (capacity, n) => {
        const h = new SeriesHistory(capacity);
        for (let t = 0; t < n; t++) h.push(t, t, t, t, t, t);
        const ts = h.toArrays().ts;
        expect(ts.length).toBe(Math.min(n, capacity));
        expect(ts).toEqual(Array.from({ length: ts.length }, (_, k) => n - ts.length + k));
      }),
    );
  });
});
