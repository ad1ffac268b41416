/**
 * Each detector's section of the config's `models:` (snake_case, validated with defaults) and how
 * it maps to the detector's options. Keyed by the registry's names (models/detectors.ts): the
 * compiler asks for an entry here when a detector is added there.
 */
import { z } from 'zod';
import { duration } from '../../common/yaml-config';
import { BandOptions, DETECTOR_NAMES, MAX_JUMP_WINDOW, DetectorName, DetectorOptionsByName, DetectorOptionsMap } from '../../models';

/** zscore and mad: a band of centre ± edge·spread, calibrated on training, updated online. */
const bandModel = (d: { threshold: number; contamination: number; adapt_samples: number }) =>
  z.strictObject({
    threshold: z.number().positive().default(d.threshold),
    min_samples: z.number().int().min(2).default(30),
    contamination: z.number().gt(0).lt(0.5).default(d.contamination),
    adapt_samples: z.number().int().min(0).default(d.adapt_samples),
    risk: z.number().min(0).lt(0.5).default(0),
  });

/** Options shared by the per-series and the per-group isolation forests. */
export const forestOptions = {
  trees: z.number().int().min(1).max(1000).default(100),
  sample_size: z.number().int().min(2).max(256).default(256),
  seed: z.number().int().default(1),
  contamination: z.number().gt(0).lt(0.5).default(0.01),
  min_samples: z.number().int().min(2).default(30),
  calibration_samples: z.number().int().min(16).default(256),
};

function bandOptions(m: z.output<ReturnType<typeof bandModel>>): BandOptions {
  return { threshold: m.threshold, minSamples: m.min_samples, contamination: m.contamination, risk: m.risk, adaptSamples: m.adapt_samples };
}

const isolationForest = z.strictObject({
  ...forestOptions,
  // 32 trees per series, not 100: one per series, the forest is most of a series' fit time (it
  // builds and calibrates every tree) and memory, and it is not in the default ensemble. Forest
  // alone, bench:detect at score > 1 / best, 50 → 32 trees: NAB −19.5 / 2.11 → −22.5 / 2.11, CM F1
  // 0.135 / 0.166 → 0.145 / 0.185, ASD F1 0.137 / 0.222 → 0.164 / 0.211; a series' fit takes 28 %
  // less CPU (docs/scaling.md).
  trees: forestOptions.trees.default(32),
  level_window: z.number().int().min(1).default(20),
});

const pattern = z
  .strictObject({
    window: z.number().int().min(2).max(64).default(8),
    history: z.number().int().min(16).max(100000).default(1000),
    factor: z.number().min(1).default(1.25),
    min_samples: z.number().int().min(4).default(20),
    /**
     * The calibration remembers distances for at least this long (and at least `history` samples),
     * so that what happens once a day (a backup, a batch burst) is not new tomorrow. bench:detect:
     * Cloud Monitoring's 1-minute MongoDB series page on their daily bursts with 1,000 samples
     * (16.7 h) of memory; docs/detection.md.
     */
    calibration_window: duration(1).prefault('24h'),
  })
  .refine((p) => p.history >= 2 * p.window, { message: 'must be at least twice the window', path: ['history'] })
  .refine((p) => p.min_samples > p.window, { message: 'must be larger than the window', path: ['min_samples'] });

/**
 * The jump against the last `window` samples' median, calibrated on the largest jump of the last
 * `calibration_window` (at least `min_calibration` samples: an hourly series remembers 100 hours,
 * not 24 samples). Chosen on the four dev corpora together (docs/detection.md).
 */
const jump = z.strictObject({
  window: z.number().int().min(1).max(MAX_JUMP_WINDOW).default(3),
  factor: z.number().min(1).default(1.75),
  min_samples: z.number().int().min(2).default(30),
  calibration_window: duration(1).prefault('24h'),
  min_calibration: z.number().int().min(2).max(100000).default(100),
});

/**
 * The z-score is in the default alerting score at its own scale: its band is 6.5 σ, or 1.5 times
 * the largest deviation of the training window (contamination 0.001 takes the largest), whichever
 * is wider, and follows a lasting change over about 120 samples. Chosen on all three dev corpora
 * together (bench:detect; docs/detection.md has the table of what was tried).
 */
const ZSCORE_DEFAULTS = { threshold: 6.5, contamination: 0.001, adapt_samples: 120 };
const MAD_DEFAULTS = { threshold: 5, contamination: 0.01, adapt_samples: 30 };

const SECTION_SCHEMAS = { zscore: bandModel(ZSCORE_DEFAULTS), mad: bandModel(MAD_DEFAULTS), isolation_forest: isolationForest, pattern, jump } satisfies Record<
  DetectorName,
  z.ZodType
>;

/** A detector's validated section (defaults applied). */
export type DetectorSections = { [N in DetectorName]: z.output<(typeof SECTION_SCHEMAS)[N]> };

/** The pattern and jump models' calibration memory in samples at most (a 1 s step remembers a day). */
const MAX_CALIBRATION = 100000;

/** Each detector's options from its section. */
const TO_OPTIONS: { [N in DetectorName]: (section: DetectorSections[N], stepMs: number) => DetectorOptionsByName[N] } = {
  zscore: bandOptions,
  mad: bandOptions,
  isolation_forest: (f) => ({
    trees: f.trees,
    sampleSize: f.sample_size,
    seed: f.seed,
    contamination: f.contamination,
    minSamples: f.min_samples,
    calibrationSamples: f.calibration_samples,
  }),
  pattern: (p, stepMs) => ({
    window: p.window,
    history: p.history,
    factor: p.factor,
    minSamples: p.min_samples,
    calibration: Math.max(p.history, Math.min(MAX_CALIBRATION, Math.ceil(p.calibration_window / stepMs))),
  }),
  jump: (j, stepMs) => ({
    window: j.window,
    factor: j.factor,
    minSamples: j.min_samples,
    calibration: Math.max(j.min_calibration, Math.min(MAX_CALIBRATION, Math.ceil(j.calibration_window / stepMs))),
  }),
};

/** The `models:` keys of every detector, each optional (absent: the detector does not run). */
export const detectorSections = z.strictObject(SECTION_SCHEMAS).partial().shape;

/** The options of every detector whose section is present, in registry order, for series sampled every `stepMs`. */
export function detectorOptions(sections: Partial<DetectorSections>, stepMs: number): DetectorOptionsMap {
  const out: DetectorOptionsMap = {};
  for (const name of DETECTOR_NAMES) enable(out, name, sections[name], stepMs);
  return out;
}

function enable<N extends DetectorName>(out: DetectorOptionsMap, name: N, section: DetectorSections[N] | undefined, stepMs: number): void {
  if (section !== undefined) out[name] = TO_OPTIONS[name](section, stepMs);
}
