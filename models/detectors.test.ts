import { DETECTOR_NAMES, DetectorName, DetectorOptionsByName, detectorKind, detectorOptionsKeys, createDetectors } from './detectors';
import { FeatureExtractor } from './feature-extractor';
import { Prng } from './prng';
import { decodeState } from './typed-array-codec';
import { DEFAULT_SCORE_OPTIONS, DetectorState, StateFormatError } from './types';

/** Options for every registered detector: the compiler asks for one when a detector is added. */
const EXAMPLES: { [N in DetectorName]: DetectorOptionsByName[N] } = {
  zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples: 30 },
  mad: { threshold: 5, minSamples: 30, contamination: 0.01, adaptSamples: 30 },
  isolation_forest: { trees: 20, sampleSize: 64, seed: 1, contamination: 0.01, minSamples: 30, calibrationSamples: 256 },
  pattern: { window: 8, history: 200, factor: 1.25, minSamples: 20 },
  jump: { window: 3, factor: 1.75, minSamples: 30, calibration: 200 },
};
const ctx = { scoring: DEFAULT_SCORE_OPTIONS, levelAlpha: 0.1 };

function features(n: number, seed: number) {
  const rng = new Prng(seed);
  const values = Float64Array.from({ length: n }, (_, i) => 10 + Math.sin(i / 5) + rng.next());
  return new FeatureExtractor(0.1).extract(values);
}

function fittedDetector<N extends DetectorName>(name: N) {
  const d = detectorKind(name).create(EXAMPLES[name], ctx);
  d.fit(features(400, 1), 1000);
  return d;
}

function roundTrip<N extends DetectorName>(name: N): void {
  const kind = detectorKind(name);
  const fresh = kind.create(EXAMPLES[name], ctx);
  expect(fresh.name).toBe(name);
  expect(fresh.fitted).toBe(false);
  const d = fittedDetector(name);
  expect(d.fitted).toBe(true);
  const state = JSON.parse(JSON.stringify(d.toJSON())) as DetectorState;
  const loaded = kind.load(decodeState(state) as DetectorState, EXAMPLES[name], ctx);
  const window = features(100, 2);
  expect(Array.from(loaded.score(window).score)).toEqual(Array.from(d.score(window).score));
}

describe('detector registry', () => {
  it.each(DETECTOR_NAMES)('%s: its name is its key, and a fit saved as JSON loads back to the same scores', (name) => roundTrip(name));

  it.each(DETECTOR_NAMES)('%s: refuses the state of another detector', (name) => {
    const other = DETECTOR_NAMES.find((n) => n !== name)!;
    const d = fittedDetector(other);
    expect(() => detectorKind(name).load(d.toState(), EXAMPLES[name], ctx)).toThrow(StateFormatError);
  });

  it('creates the configured detectors in registry order, and keys their saved fits by what they depend on', () => {
    expect(createDetectors({ pattern: EXAMPLES.pattern, zscore: EXAMPLES.zscore }, ctx).map((d) => d.name)).toEqual(['zscore', 'pattern']);
    const keys = detectorOptionsKeys({ zscore: EXAMPLES.zscore, isolation_forest: EXAMPLES.isolation_forest }, ctx);
    expect(keys).toEqual({ zscore: EXAMPLES.zscore, isolation_forest: { ...EXAMPLES.isolation_forest, levelAlpha: 0.1 } });
    // The pattern model's saved history survives a changed calibration span (it is re-applied on load).
    expect(detectorOptionsKeys({ pattern: { ...EXAMPLES.pattern, calibration: 1440 } }, ctx)).toEqual(detectorOptionsKeys({ pattern: EXAMPLES.pattern }, ctx));
  });
});
