/**
 * The detector registry: every per-series detector by name, with how to create it, how to load it
 * from saved state and what its saved fit depends on. The series model, the exporter's config
 * mapping and its state store all go through this table, so adding a detector is one model file
 * plus one line here (and its section in the exporter's config, exporter/config/detector-config.ts,
 * which the compiler asks for through `DetectorName`).
 *
 * The order of the table is the order detectors run and combine in a series model.
 */
import { IsolationForestDetector, IsolationForestDetectorOptions } from './isolation-forest-detector';
import { JumpDetector, JumpOptions } from './jump-detector';
import { MadDetector, MadOptions } from './mad-detector';
import { PatternDetector, PatternOptions } from './pattern-detector';
import { Detector, DetectorState, ScoreOptions } from './types';
import { ZScoreDetector, ZScoreOptions } from './zscore-detector';

/** The detectors a series model runs, each with its options; an absent name is not run. */
export type DetectorOptionsMap = { [N in DetectorName]?: DetectorOptionsByName[N] };

/** What the series model passes to every detector besides its own options. */
export interface DetectorContext {
  scoring: ScoreOptions;
  /** EWMA weight of the level feature (see FeatureExtractor). */
  levelAlpha: number;
}

export interface DetectorKind<O> {
  /** An unfitted detector. */
  create(opts: O, ctx: DetectorContext): Detector;
  /** A fitted detector from its state (toState or toJSON decoded); throws StateFormatError when foreign. */
  load(state: DetectorState, opts: O, ctx: DetectorContext): Detector;
  /**
   * What a saved fit depends on besides the signal's own settings: hashed into the state file, so
   * a change of these drops this detector's saved fits alone.
   */
  optionsKey(opts: O, ctx: DetectorContext): unknown;
}

/** A registry entry, typed by its options. */
const kind = <O>(k: DetectorKind<O>): DetectorKind<O> => k;

/** The registry: one line per detector. Its name is also its key in the config's `models:`. */
export const DETECTORS = {
  zscore: kind<ZScoreOptions>({
    create: (o, c) => new ZScoreDetector(o, c.scoring),
    load: (s, o, c) => ZScoreDetector.load(s, o, c.scoring),
    optionsKey: (o) => o,
  }),
  mad: kind<MadOptions>({ create: (o, c) => new MadDetector(o, c.scoring), load: (s, o, c) => MadDetector.load(s, o, c.scoring), optionsKey: (o) => o }),
  // The forest isolates on the level feature too, whose smoothing is set by levelAlpha.
  isolation_forest: kind<IsolationForestDetectorOptions>({
    create: (o, c) => new IsolationForestDetector(o, c.scoring),
    load: (s, o, c) => IsolationForestDetector.load(s, o, c.scoring),
    optionsKey: (o, c) => ({ ...o, levelAlpha: c.levelAlpha }),
  }),
  pattern: kind<PatternOptions>({
    create: (o, c) => new PatternDetector(o, c.scoring),
    load: (s, o, c) => PatternDetector.load(s, o, c.scoring),
    // A saved state restores over another calibration span (SlidingMax.load): a changed
    // calibration_window or step keeps the pattern model's history rather than reseeding it.
    optionsKey: ({ calibration: _calibration, ...rest }) => rest,
  }),
  // Like the pattern model, a saved calibration restores over another span.
  jump: kind<JumpOptions>({
    create: (o, c) => new JumpDetector(o, c.scoring),
    load: (s, o, c) => JumpDetector.load(s, o, c.scoring),
    optionsKey: ({ calibration: _calibration, ...rest }) => rest,
  }),
};

export type DetectorName = keyof typeof DETECTORS;

/** Each detector's options, by its name (from the registry). */
export type DetectorOptionsByName = { [N in DetectorName]: (typeof DETECTORS)[N] extends DetectorKind<infer O> ? O : never };

/** The registry, each entry typed by its own name's options (checked, not cast). */
const KINDS: { readonly [N in DetectorName]: DetectorKind<DetectorOptionsByName[N]> } = DETECTORS;

/** Every detector name, in registry order. */
export const DETECTOR_NAMES = Object.keys(DETECTORS) as DetectorName[];

/** A registry entry, typed by its name's options. */
export function detectorKind<N extends DetectorName>(name: N): DetectorKind<DetectorOptionsByName[N]> {
  return KINDS[name];
}

/** One configured detector: its name, options and registry entry, typed together. */
interface Configured<N extends DetectorName> {
  name: N;
  opts: DetectorOptionsByName[N];
  kind: DetectorKind<DetectorOptionsByName[N]>;
}

/** The configured detectors in registry order. */
export function configuredDetectors(options: DetectorOptionsMap): Configured<DetectorName>[] {
  const out: Configured<DetectorName>[] = [];
  for (const name of DETECTOR_NAMES) {
    const opts = options[name];
    if (opts !== undefined) out.push(configured(name, opts));
  }
  return out;
}

function configured<N extends DetectorName>(name: N, opts: DetectorOptionsByName[N]): Configured<N> {
  return { name, opts, kind: KINDS[name] };
}

/** Unfitted detectors for the configured options, in registry order. */
export function createDetectors(options: DetectorOptionsMap, ctx: DetectorContext): Detector[] {
  return configuredDetectors(options).map((d) => d.kind.create(d.opts, ctx));
}

/** Per configured detector, what its saved fits depend on (see DetectorKind.optionsKey). */
export function detectorOptionsKeys(options: DetectorOptionsMap, ctx: DetectorContext): Partial<Record<DetectorName, unknown>> {
  const out: Partial<Record<DetectorName, unknown>> = {};
  for (const d of configuredDetectors(options)) out[d.name] = d.kind.optionsKey(d.opts, ctx);
  return out;
}
