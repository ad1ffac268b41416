import fc from 'fast-check';
import { SlidingMax } from './sliding-max';

describe('SlidingMax', () => {
  it('always equals the largest of the last `span` values, also after a save and load', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.nat(400),
        (xs, span, saveAt) => {
          let m = new SlidingMax(span, 2);
          xs.forEach((x, i) => {
            if (i === saveAt) m = SlidingMax.load(m.toState());
            m.push(x);
            const recent = xs.slice(Math.max(0, i + 1 - span), i + 1);
            expect(m.max).toBe(Math.max(...recent));
            expect(m.size).toBe(recent.length);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('restored over another span, equals the largest of the last values the new span covers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 80 }),
        fc.nat(300),
        (xs, span, newSpan, saveAt) => {
          const at = Math.min(saveAt, xs.length);
          const m = new SlidingMax(span, 2);
          xs.slice(0, at).forEach((x) => m.push(x));
          const r = SlidingMax.load(m.toState(), newSpan);
          // What the restored one knows: the saved span's values, then everything pushed after.
          const known = xs.slice(Math.max(0, at - span), at);
          xs.slice(at).forEach((x) => {
            r.push(x);
            known.push(x);
            const recent = known.slice(Math.max(0, known.length - newSpan));
            expect(r.max).toBe(Math.max(...recent));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps few candidates on noise, and is empty after clear', () => {
    const m = new SlidingMax(1000);
    for (let i = 0; i < 5000; i++) m.push(Math.abs(Math.sin(i * 12.9898) * 43758.5453) % 1);
    expect(m.toState().values.length).toBeLessThan(30);
    m.clear();
    expect([m.size, m.max]).toEqual([0, 0]);
  });
});
