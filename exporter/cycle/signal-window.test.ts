import fc from 'fast-check';
import { labelKey } from '../read/query-range-response';
import { RawSeries } from '../read/reader';
import { SeriesSamples, SignalWindow } from './signal-window';

const STEP = 60;
const T0 = 1_700_000_000 - (1_700_000_000 % STEP);
const WINDOW = 20; // steps

/** A source: per series, per grid index, absent, NaN or a value. */
type Source = (number | null)[][];

/** What Prometheus answers for [a, b] (grid indexes): each series with a sample there, its samples. */
function answer(src: Source, a: number, b: number): RawSeries[] {
  const out: RawSeries[] = [];
  src.forEach((samples, s) => {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = Math.max(0, a); i <= Math.min(b, samples.length - 1); i++) {
      if (samples[i] === null) continue;
      ts.push(T0 + i * STEP);
      vs.push(samples[i] as number);
    }
    if (ts.length) out.push({ labels: { s: String(s) }, timestamps: Float64Array.from(ts), values: Float64Array.from(vs) });
  });
  return out;
}

/** What a consumer sees of a series: its finite samples, and its newest sample's time (present or NaN-valued). */
function seen(series: (RawSeries | SeriesSamples)[]): Record<string, { finite: [number, number][]; newest: number }> {
  const out: Record<string, { finite: [number, number][]; newest: number }> = {};
  for (const x of series) {
    const r = 'read' in x ? x.read() : x;
    const finite: [number, number][] = [];
    r.values.forEach((v, i) => Number.isFinite(v) && finite.push([r.timestamps[i], v]));
    out[labelKey(r.labels)] = { finite, newest: r.timestamps[r.timestamps.length - 1] };
  }
  return out;
}

/**
 * The window's stated precision (signal-window.ts, models/offset-float32.ts): each value within
 * 2^-24 of the series' range per rounding, one rounding when kept and one more per slide it lives
 * through; 64 roundings bound this test's windows (at most 37 slots, so at most 37 slides).
 */
function expectClose(got: ReturnType<typeof seen>, want: ReturnType<typeof seen>, src: Source): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [key, w] of Object.entries(want)) {
    const g = got[key];
    expect(g.newest).toBe(w.newest);
    expect(g.finite.map(([t]) => t)).toEqual(w.finite.map(([t]) => t));
    const finite = src[Number(key.replace(/\D/g, ''))].filter((v): v is number => v !== null && Number.isFinite(v));
    const range = Math.max(...finite) - Math.min(...finite);
    g.finite.forEach(([, v], i) => expect(Math.abs(v - w.finite[i][1])).toBeLessThanOrEqual(64 * 2 ** -24 * range));
  }
}

function absorb(w: SignalWindow, raw: RawSeries[], a: number, b: number): void {
  w.absorb(
    raw,
    raw.map((r) => labelKey(r.labels)),
    T0 + a * STEP,
    T0 + b * STEP,
  );
}

const sourceArb = fc.array(
  fc.array(fc.oneof(fc.constant(null), fc.constant(Number.NaN), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { minLength: 200, maxLength: 200 }),
  {
    minLength: 1,
    maxLength: 4,
  },
);

/** Each cycle: how far the end moves, and how the read starts (the whole window, after the last read with some overlap, or after a gap). */
const cycleArb = fc.record({
  advance: fc.integer({ min: 1, max: 6 }),
  kind: fc.constantFrom('whole', 'next', 'next', 'next', 'gap'),
  overlap: fc.integer({ min: 0, max: 3 }),
  gap: fc.integer({ min: 1, max: 30 }),
});

describe('SignalWindow', () => {
  it('answers a refit as a whole-window read would, to its stated precision, whenever it says it covers the window (slides, gaps, NaN, series coming and going)', () => {
    fc.assert(
      fc.property(sourceArb, fc.array(cycleArb, { minLength: 1, maxLength: 60 }), (src, cycles) => {
        const w = new SignalWindow(STEP, WINDOW * STEP);
        let end = WINDOW;
        let prevEnd = -Infinity;
        /** Since when the reads were contiguous, by the model's own count. */
        let contiguousFrom = Infinity;
        for (const c of cycles) {
          end += c.advance;
          if (end >= 200) break;
          let start = c.kind === 'whole' || prevEnd === -Infinity ? end - WINDOW : c.kind === 'next' ? prevEnd + 1 - c.overlap : prevEnd + 1 + c.gap;
          start = Math.min(start, end);
          if (!(start >= contiguousFrom && start <= prevEnd + 1)) contiguousFrom = start;
          absorb(w, answer(src, start, end), start, end);
          prevEnd = end;
          const whole = answer(src, end - WINDOW, end);
          const shouldCover = contiguousFrom <= end - WINDOW && whole.length > 0;
          if (shouldCover) expect(w.covers(T0 + (end - WINDOW) * STEP)).toBe(true);
          if (w.covers(T0 + (end - WINDOW) * STEP)) {
            expect(contiguousFrom).toBeLessThanOrEqual(end - WINDOW);
            expectClose(seen(w.read(T0 + (end - WINDOW) * STEP)), seen(whole), src);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('absorbs in turns exactly as at once: the same samples, the same cover, off-grid answers refused the same', async () => {
    const src: Source = Array.from({ length: 50 }, (_, s) => Array.from({ length: 200 }, (_, i) => (i % 17 === s % 17 ? null : s * 1000 + i)));
    const atOnce = new SignalWindow(STEP, WINDOW * STEP);
    const inTurns = new SignalWindow(STEP, WINDOW * STEP);
    for (const [a, b] of [
      [0, WINDOW],
      [WINDOW + 1, WINDOW + 3],
      [WINDOW + 4, 150],
    ]) {
      const raw = answer(src, a, b);
      const keys = raw.map((r) => labelKey(r.labels));
      atOnce.absorb(raw, keys, T0 + a * STEP, T0 + b * STEP);
      await inTurns.absorbInTurns(raw, keys, T0 + a * STEP, T0 + b * STEP);
      expect(inTurns.covers(T0 + (b - WINDOW) * STEP)).toBe(atOnce.covers(T0 + (b - WINDOW) * STEP));
      expect(seen(inTurns.read(T0 + (b - WINDOW) * STEP))).toEqual(seen(atOnce.read(T0 + (b - WINDOW) * STEP)));
    }
    const shifted = answer(src, 151, 152).map((r) => ({ ...r, timestamps: r.timestamps.map((t) => t + 1) }));
    await inTurns.absorbInTurns(
      shifted,
      shifted.map((r) => labelKey(r.labels)),
      T0 + 151 * STEP,
      T0 + 152 * STEP,
    );
    expect(inTurns.covers(T0 + (152 - WINDOW) * STEP)).toBe(false);
  });

  it('does not trust an answer off its step grid, nor one after a gap, and forgets on clear', () => {
    const src: Source = [Array.from({ length: 100 }, (_, i) => i)];
    const w = new SignalWindow(STEP, WINDOW * STEP);
    absorb(w, answer(src, 10, 30), 10, 30);
    expect(w.covers(T0 + 10 * STEP)).toBe(true);
    expect(w.covers(T0 + 9 * STEP)).toBe(false);
    // A source that moved its points by a second: the window starts over and covers nothing.
    const shifted = answer(src, 31, 32).map((r) => ({ ...r, timestamps: r.timestamps.map((t) => t + 1) }));
    absorb(w, shifted, 31, 32);
    expect(w.covers(T0 + 12 * STEP)).toBe(false);
    absorb(w, answer(src, 10, 40), 10, 40);
    expect(w.covers(T0 + 20 * STEP)).toBe(true);
    // A gap of one step: what came before is no longer known to be whole.
    absorb(w, answer(src, 42, 45), 42, 45);
    expect(w.covers(T0 + 25 * STEP)).toBe(false);
    expect(w.covers(T0 + 42 * STEP)).toBe(true);
    w.clear();
    expect(w.covers(T0 + 42 * STEP)).toBe(false);
    expect(w.size).toBe(0);
  });

  it('a read that found no sample still covers its range: the next contiguous read does not start over', () => {
    // One series absent for steps 0..9, then present (the counterexample fast-check found).
    const src: Source = [Array.from({ length: 60 }, (_, i) => (i < 10 ? null : i))];
    const w = new SignalWindow(STEP, WINDOW * STEP);
    absorb(w, answer(src, 0, 5), 0, 5);
    expect(w.size).toBe(0);
    expect(w.covers(T0)).toBe(true);
    absorb(w, answer(src, 6, 25), 6, 25);
    expect(w.covers(T0 + 5 * STEP)).toBe(true);
    expect(seen(w.read(T0 + 5 * STEP))).toEqual(seen(answer(src, 5, 25)));
  });

  it('keeps what it gave out intact when the grid slides while held (a fit cut by its cycle may still read it), and moves in place once released', () => {
    const src: Source = [Array.from({ length: 400 }, (_, i) => i)];
    const w = new SignalWindow(STEP, WINDOW * STEP);
    absorb(w, answer(src, 0, WINDOW), 0, WINDOW);
    const held = w.read(T0);
    const release = w.hold();
    const before = held[0].read();
    for (let end = WINDOW + 1; end < 200; end++) absorb(w, answer(src, end, end), end, end);
    expect(seen(held)).toEqual(seen([before]));
    expect(seen(held)).toEqual(seen(answer(src, 0, WINDOW)));
    expect(seen(w.read(T0 + (199 - WINDOW) * STEP))).toEqual(seen(answer(src, 199 - WINDOW, 199)));
    release();
    release(); // counted once
    // Released: a slide moves the samples within the same arrays (what was read before moves with
    // them), and reads stay exact.
    const after = w.read(T0 + (199 - WINDOW) * STEP);
    const afterBefore = seen(after);
    for (let end = 200; end < 300; end++) absorb(w, answer(src, end, end), end, end);
    expect(seen(w.read(T0 + (299 - WINDOW) * STEP))).toEqual(seen(answer(src, 299 - WINDOW, 299)));
    expect(seen(after)).not.toEqual(afterBefore);
  });

  it('keeps a flat series exactly, at any level, through slides', () => {
    fc.assert(
      // -0 is kept as 0 (a base plus an offset of 0), which nothing tells apart.
      fc.property(
        fc.double({ min: -1e15, max: 1e15, noNaN: true }).map((x) => x + 0),
        fc.integer({ min: 30, max: 150 }),
        (level, n) => {
          const src: Source = [Array.from({ length: n + 1 }, () => level)];
          const w = new SignalWindow(STEP, WINDOW * STEP);
          absorb(w, answer(src, 0, WINDOW), 0, WINDOW);
          for (let end = WINDOW + 1; end <= n; end++) absorb(w, answer(src, end, end), end, end);
          const got = w.read(T0 + (n - WINDOW) * STEP)[0].read();
          expect(Array.from(got.values)).toEqual(Array.from({ length: WINDOW + 1 }, () => level));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps a series far from zero to a fraction of its own movement, not of its level (Float32 alone would not)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e3, max: 1e12, noNaN: true }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 1e6 }),
        (level, noise, seed) => {
          const n = 150;
          const values = Array.from({ length: n + 1 }, (_, i) => level + noise * Math.sin(seed + i * 1.7) + (i * noise) / 10);
          const src: Source = [values];
          const w = new SignalWindow(STEP, WINDOW * STEP);
          absorb(w, answer(src, 0, WINDOW), 0, WINDOW);
          for (let end = WINDOW + 1; end <= n; end++) absorb(w, answer(src, end, end), end, end);
          const got = w.read(T0 + (n - WINDOW) * STEP)[0].read();
          const want = values.slice(n - WINDOW);
          // The series moves by about 2 noise over the window (plus its drift of 0.1 noise a step): its
          // samples are kept to 1e-5 of the noise where Float32 would keep them to 6e-8 of the level.
          got.values.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 * noise));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('moves its base with the series: after a climb from 0 to 1e8, a noise of 1 there is kept to 1e-5', () => {
    const n = 200;
    const values = Array.from({ length: n + 1 }, (_, i) => (i < 100 ? i * 1e6 : 1e8 + Math.sin(i * 1.3)));
    const w = new SignalWindow(STEP, WINDOW * STEP);
    absorb(w, answer([values], 0, WINDOW), 0, WINDOW);
    for (let end = WINDOW + 1; end <= n; end++) absorb(w, answer([values], end, end), end, end);
    const got = w.read(T0 + (n - WINDOW) * STEP)[0].read();
    got.values.forEach((v, i) => expect(Math.abs(v - values[n - WINDOW + i])).toBeLessThanOrEqual(1e-5));
  });
});
