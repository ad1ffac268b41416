import fc from 'fast-check';
import { sampleRankCorrelation } from 'simple-statistics';
import { averagePathLength } from './average-path-length';
import { IsolationForest } from './isolation-forest';
import golden from './fixtures/sklearn-golden.json';

interface GoldenCase {
  name: string;
  rows: number;
  cols: number;
  data: number[];
  scores: number[];
}

function meanScores(c: GoldenCase, forests: number): Float64Array {
  const x = { rows: c.rows, cols: c.cols, data: Float64Array.from(c.data) };
  const sum = new Float64Array(c.rows);
  for (let seed = 1; seed <= forests; seed++) {
    const f = new IsolationForest({ trees: 100, sampleSize: 256, seed });
    f.fit(x);
    const s = f.score(x);
    for (let i = 0; i < c.rows; i++) sum[i] += s[i] / forests;
  }
  return sum;
}

describe('IsolationForest', () => {
  it('computes c(n) exactly as the paper defines it (2 H(n-1) - 2 (n-1)/n, Euler gamma twice)', () => {
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // H(255) = 6.1243..., so c(256) = 2 * 6.12434 - 2 * 255 / 256
    let h = 0;
    for (let i = 1; i <= 255; i++) h += 1 / i;
    expect(averagePathLength(256)).toBeCloseTo(2 * h - (2 * 255) / 256, 2);
  });

  for (const c of (golden as { cases: GoldenCase[] }).cases) {
    it(`agrees with scikit-learn ${golden.sklearn_version} on "${c.name}" (mean abs diff < 0.01, rank correlation > 0.97)`, () => {
      const ours = meanScores(c, 30);
      let absDiff = 0;
      for (let i = 0; i < c.rows; i++) absDiff += Math.abs(ours[i] - c.scores[i]);
      expect(absDiff / c.rows).toBeLessThan(0.01);
      // simple-statistics returns NaN on typed arrays here, so pass plain arrays.
      expect(sampleRankCorrelation(Array.from(ours), c.scores)).toBeGreaterThan(0.97);
    });
  }

  it('is deterministic for a seed and differs across seeds', () => {
    const c = (golden as { cases: GoldenCase[] }).cases[0];
    const x = { rows: c.rows, cols: c.cols, data: Float64Array.from(c.data) };
    const a = new IsolationForest({ trees: 50, sampleSize: 256, seed: 7 });
    const b = new IsolationForest({ trees: 50, sampleSize: 256, seed: 7 });
    const d = new IsolationForest({ trees: 50, sampleSize: 256, seed: 8 });
    a.fit(x);
    b.fit(x);
    d.fit(x);
    expect(Array.from(a.score(x))).toEqual(Array.from(b.score(x)));
    expect(Array.from(a.score(x))).not.toEqual(Array.from(d.score(x)));
  });

  it('replaces the forest on refit instead of adding trees', () => {
    const f = new IsolationForest({ trees: 20, sampleSize: 64, seed: 1 });
    const low = { rows: 200, cols: 1, data: Float64Array.from({ length: 200 }, (_, i) => (i % 10) / 10) };
    const high = { rows: 200, cols: 1, data: Float64Array.from({ length: 200 }, (_, i) => 100 + (i % 10) / 10) };
    f.fit(low);
    const nodes = f.nodeCount;
    f.fit(high);
    expect(f.nodeCount).toBeLessThan(nodes * 2);
    // After refitting on the high range, a high value is ordinary and a low value is isolated.
    // An old forest would have split inside 0..1, where the new data has no points at all.
    const probe = { rows: 2, cols: 1, data: Float64Array.from([100.45, 0.45]) };
    const [hi, lo] = f.score(probe);
    expect(hi).toBeLessThan(0.55);
    expect(lo).toBeGreaterThan(hi);
  });

  it('subsamples: a tree never has more leaves than the sample size', () => {
    const f = new IsolationForest({ trees: 10, sampleSize: 32, seed: 3 });
    f.fit({ rows: 1000, cols: 1, data: Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i)) });
    expect(f.nodeCount / 10).toBeLessThanOrEqual(2 * 32 - 1);
  });

  it('rejects non-finite input with a clear error', () => {
    const f = new IsolationForest({ trees: 5, sampleSize: 16, seed: 1 });
    expect(() => f.fit({ rows: 3, cols: 1, data: Float64Array.from([1, NaN, 2]) })).toThrow(/finite/);
    expect(() => f.fit({ rows: 3, cols: 1, data: Float64Array.from([1, Infinity, 2]) })).toThrow(/finite/);
  });

  it('saves and loads back to identical scores', () => {
    const c = (golden as { cases: GoldenCase[] }).cases[1];
    const x = { rows: c.rows, cols: c.cols, data: Float64Array.from(c.data) };
    const f = new IsolationForest({ trees: 100, sampleSize: 256, seed: 11 });
    f.fit(x);
    const copy = IsolationForest.load(JSON.parse(JSON.stringify(f.toJSON())));
    expect(Array.from(copy.score(x))).toEqual(Array.from(f.score(x)));
    // Compact: well under the 50 bytes a node that JSON number lists would cost.
    expect(JSON.stringify(f.toJSON()).length).toBeLessThan(f.nodeCount * 6);
  });

  it('refuses a corrupted saved forest, or scores it in bounded time: never a loop (property)', () => {
    const c = (golden as { cases: GoldenCase[] }).cases[1];
    const x = { rows: c.rows, cols: c.cols, data: Float64Array.from(c.data) };
    const f = new IsolationForest({ trees: 20, sampleSize: 64, seed: 3 });
    f.fit(x);
    const text = JSON.stringify(f.toJSON());
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // The saved node words are where a flipped character makes a node point back at itself.
    const nodesAt = text.indexOf('"nodes"');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(63)), { minLength: 1, maxLength: 8 }), (flips) => {
        const chars = text.split('');
        for (const [at, to] of flips) {
          const i = nodesAt + (at % (text.length - nodesAt));
          if (B64.includes(chars[i])) chars[i] = B64[to];
        }
        let loaded: IsolationForest;
        try {
          loaded = IsolationForest.load(JSON.parse(chars.join('')));
        } catch (err) {
          expect((err as Error).name).toMatch(/StateFormatError|Error/);
          return;
        }
        const started = Date.now();
        const s = loaded.score(x);
        expect(Date.now() - started).toBeLessThan(1000);
        for (const v of s) expect(Number.isFinite(v)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a saved tree whose node points back at itself', () => {
    const c = (golden as { cases: GoldenCase[] }).cases[1];
    const f = new IsolationForest({ trees: 5, sampleSize: 64, seed: 3 });
    f.fit({ rows: c.rows, cols: c.cols, data: Float64Array.from(c.data) });
    const state = f.toState();
    const nodes = Int32Array.from(state.nodes);
    // The root's right child: offset 0, the root itself.
    nodes[0] = (nodes[0] & ~(0x1ff << 16) & ~(1 << 25)) | (0 << 16);
    expect(() => IsolationForest.load({ ...state, nodes })).toThrow(/corrupt: tree 0 has a right child out of order/);
  });

  it('gives finite scores in (0, 1] for any finite input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), { minLength: 2, maxLength: 300 }),
        fc.integer(),
        (values, seed) => {
          const f = new IsolationForest({ trees: 10, sampleSize: 64, seed });
          const x = { rows: values.length, cols: 1, data: Float64Array.from(values) };
          f.fit(x);
          for (const s of f.score(x)) {
            expect(Number.isFinite(s)).toBe(true);
            expect(s).toBeGreaterThan(0);
            expect(s).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('attributes a row to the features that isolate it: shares sum to 1, the one feature out of range leads (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 5 }), fc.integer(), (cols, pick, seed) => {
        const odd = pick % cols;
        const rows = 300;
        const data = new Float64Array(rows * cols);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = Math.sin(r * (c + 1.3)) + ((r * (c + 7)) % 11) / 11;
        const f = new IsolationForest({ trees: 50, sampleSize: 128, seed });
        f.fit({ rows, cols, data });
        const row = Float64Array.from({ length: cols }, (_, c) => (c === odd ? 25 : 0.5));
        const shares = new Float64Array(cols);
        f.contributions(row, 0, shares);
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        for (const x of shares) expect(x).toBeGreaterThanOrEqual(0);
        for (let c = 0; c < cols; c++) if (c !== odd) expect(shares[odd]).toBeGreaterThan(shares[c]);
      }),
      { numRuns: 40 },
    );
  });
});
