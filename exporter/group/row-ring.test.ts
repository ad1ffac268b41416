import fc from 'fast-check';
import { RowRing } from './row-ring';

describe('RowRing', () => {
  it('holds the newest maxRows rows in order, as a plain list would, through growth and wrap-around', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 500 }), (cols, maxRows, pushes) => {
        const ring = new RowRing(cols, maxRows);
        const list: number[][] = [];
        for (let i = 0; i < pushes; i++) {
          const row = Array.from({ length: cols }, (_, k) => i * 10 + k);
          ring.push(1000 + i, row);
          list.push(row);
        }
        const kept = list.slice(Math.max(0, list.length - maxRows));
        expect(ring.length).toBe(kept.length);
        expect(ring.lastTime).toBe(pushes ? 1000 + pushes - 1 : -Infinity);
        const read = Array.from({ length: ring.length }, (_, r) => Array.from({ length: cols }, (_, k) => ring.value(r, k)));
        expect(read).toEqual(kept);
      }),
      { numRuns: 300 },
    );
  });
});
