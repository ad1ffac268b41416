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

  it('keeps each channel to within 2^-23 of its range over the last two turns of the ring, at any level, and a flat channel exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 300 }),
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.integer(),
        (maxRows, pushes, level, scale, seed) => {
          const ring = new RowRing(3, maxRows);
          const list: number[][] = [];
          for (let i = 0; i < pushes; i++) {
            // A drifting channel, a noisy one and a flat one.
            const row = [level + scale * i, level + scale * Math.sin(seed + i * 0.7), level];
            ring.push(i, row);
            list.push(row);
          }
          const kept = list.slice(Math.max(0, list.length - maxRows));
          const recent = list.slice(Math.max(0, list.length - 2 * maxRows));
          for (let k = 0; k < 3; k++) {
            const range = Math.max(...recent.map((x) => x[k])) - Math.min(...recent.map((x) => x[k]));
            kept.forEach((x, r) => expect(Math.abs(ring.value(r, k) - x[k])).toBeLessThanOrEqual(2 ** -23 * range));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
