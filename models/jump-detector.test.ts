import fc from 'fast-check';
import { JumpDetector, JumpOptions } from './jump-detector';
import { Prng } from './prng';
import { columnMatrix, DEFAULT_SCORE_OPTIONS, DetectorState, ScoreOptions } from './types';
import { decodeState } from './typed-array-codec';

const OPTS: JumpOptions = { window: 3, factor: 1.75, calibration: 288, minSamples: 30 };

function detector(scoring: Partial<ScoreOptions> = {}, opts: Partial<JumpOptions> = {}): JumpDetector {
  return new JumpDetector({ ...OPTS, ...opts }, { ...DEFAULT_SCORE_OPTIONS, ...scoring });
}

/** A daily cycle of 288 five-minute samples whose swing is far larger than its noise. */
function day(n: number, seed: number, noise = 1): Float64Array {
  const rng = new Prng(seed);
  return Float64Array.from({ length: n }, (_, i) => 100 + 50 * Math.sin((2 * Math.PI * i) / 288) + noise * (rng.next() - 0.5));
}

const scores = (d: JumpDetector, values: Float64Array) => d.scoreWithBand(columnMatrix(values));
/** scoreWithBand's scores of a detector fitted on `train`. */
function detectorScores(train: Float64Array, values: Float64Array): Float64Array {
  const d = detector();
  d.fit(columnMatrix(train));
  return scores(d, values).score;
}
const max = (a: Float64Array, from = 0, to = a.length) => Math.max(...a.subarray(from, to));

/** Finite values of a plausible metric, with some repeated runs and spikes. */
const seriesArb = fc
  .array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0, 1, 5)), { minLength: 40, maxLength: 400 })
  .map((a) => Float64Array.from(a));

describe('JumpDetector', () => {
  it('flags a spike that is small against the day but large against the minutes around it', () => {
    const d = detector();
    const values = day(288 * 3, 1);
    d.fit(columnMatrix(values.subarray(0, 288)));
    // +10 at the daily trough: far inside the day's range (50 to 150), 20 times the noise.
    values[288 * 2 + 216] += 10;
    const s = scores(d, values.subarray(288)).score;
    expect(s[288 + 216]).toBeGreaterThan(1);
    expect(max(s, 0, 288 + 216)).toBeLessThanOrEqual(1);
  });

  it('stops paging on jumps a bursty series makes every day, and still pages on a larger one', () => {
    const d = detector();
    const values = day(288 * 5, 2);
    // Bursts of +30 three times a day.
    for (let i = 0; i < values.length; i++) if (i % 96 === 40) values[i] += 30;
    values[288 * 4 + 150] += 80;
    d.fit(columnMatrix(values.subarray(0, 288)));
    const s = scores(d, values.subarray(288)).score;
    expect(max(s, 0, 288 * 3 + 150)).toBeLessThanOrEqual(1);
    expect(s[288 * 3 + 150]).toBeGreaterThan(1);
  });

  it('keeps its score and band in step: the score crosses 1 exactly where the value leaves the band', () => {
    fc.assert(
      fc.property(seriesArb, fc.constantFrom<ScoreOptions['direction']>('both', 'above', 'below'), (values, direction) => {
        const d = detector({ direction }, { minSamples: 10 });
        d.fit(columnMatrix(values.subarray(0, 20)));
        const s = scores(d, values.subarray(20));
        for (let i = 0; i < s.score.length; i++) {
          if (Number.isNaN(s.expected[i])) {
            expect(s.score[i]).toBe(0);
            continue;
          }
          const x = values[20 + i];
          const outside = direction === 'below' ? x < s.lower[i] : direction === 'above' ? x > s.upper[i] : x < s.lower[i] || x > s.upper[i];
          expect(s.score[i] > 1).toBe(outside);
        }
      }),
    );
  });

  it('is causal: scoring in one call or sample by sample gives the same scores, and later values never change earlier ones', () => {
    fc.assert(
      fc.property(seriesArb, fc.integer({ min: 0, max: 1000 }), (values, cut) => {
        const train = values.subarray(0, 30);
        const rest = values.subarray(30);
        const whole = detector();
        whole.fit(columnMatrix(train));
        const all = scores(whole, rest).score;
        const stepwise = detector();
        stepwise.fit(columnMatrix(train));
        const one = rest.map((x) => scores(stepwise, Float64Array.of(x)).score[0]);
        expect(Array.from(one)).toEqual(Array.from(all));
        const k = cut % (rest.length + 1);
        const prefix = detector();
        prefix.fit(columnMatrix(train));
        expect(Array.from(scores(prefix, rest.slice(0, k)).score)).toEqual(Array.from(all.subarray(0, k)));
      }),
    );
  });

  it('scores the same whatever the unit: scaling and shifting the values leaves every score unchanged', () => {
    fc.assert(
      fc.property(seriesArb, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), (values, a, b) => {
        const plain = detector();
        const moved = detector();
        const other = values.map((x) => a * x + b);
        plain.fit(columnMatrix(values.subarray(0, 30)));
        moved.fit(columnMatrix(other.subarray(0, 30)));
        const s1 = scores(plain, values.subarray(30)).score;
        const s2 = scores(moved, other.subarray(30)).score;
        for (let i = 0; i < s1.length; i++) {
          // A zero-width band (a run of identical values) scores any change off the scale either way.
          if (s1[i] > 1e6 || s2[i] > 1e6) expect(s1[i] > 1e6 && s2[i] > 1e6).toBe(true);
          else expect(s2[i]).toBeCloseTo(s1[i], 4);
        }
      }),
    );
  });

  it('goes on from saved state exactly where it was, and refuses a foreign state', () => {
    const values = day(900, 3);
    const d = detector();
    d.fit(columnMatrix(values.subarray(0, 300)));
    scores(d, values.subarray(300, 600));
    const saved = JSON.parse(JSON.stringify(d.toJSON())) as DetectorState;
    const loaded = JumpDetector.load(decodeState(saved) as DetectorState, OPTS, DEFAULT_SCORE_OPTIONS);
    expect(Array.from(scores(loaded, values.subarray(600)).score)).toEqual(Array.from(scores(d, values.subarray(600)).score));
    expect(() => JumpDetector.load({ ...saved, name: 'pattern' }, OPTS, DEFAULT_SCORE_OPTIONS)).toThrow('not a jump');
    expect(() => JumpDetector.load({ ...saved, state: { recent: [1, 2] } }, OPTS, DEFAULT_SCORE_OPTIONS)).toThrow('malformed');
  });

  it('honours the signal minimum deviation: a wiggle on a flat series does not page', () => {
    const d = detector({ minDeviation: 1 });
    const values = new Float64Array(400).fill(10);
    values[350] = 10.5;
    values[380] = 12;
    d.fit(columnMatrix(values.subarray(0, 100)));
    const s = scores(d, values.subarray(100)).score;
    expect(s[250]).toBeLessThanOrEqual(1);
    expect(s[280]).toBeGreaterThan(1);
  });

  it("scores without a band of its own in the ensemble: the band drawn is the z-score's", () => {
    const d = detector();
    d.fit(columnMatrix(day(400, 5)));
    const s = d.score(columnMatrix(day(10, 6)));
    expect(s.expected).toBeUndefined();
    expect(Array.from(s.score)).toEqual(Array.from(detectorScores(day(400, 5), day(10, 6))));
  });

  it('waits for its calibration before it scores', () => {
    const d = detector();
    expect(() => d.fit(columnMatrix(day(10, 4)))).toThrow('needs at least 30');
  });
});
