/**
 * The public surface of models/: what the exporter, the bench and other users may rely on. Pure
 * scoring code, no I/O. Internals (forest trees, band estimation, quantiles, the sliding maximum)
 * stay behind their own files; import them directly only from models' own tests.
 */
// Plain data in, plain data out.
export type { Detector, DetectorState, FeatureMatrix, Scores, ScoreOptions, Direction } from './types';
export { NotEnoughDataError, StateFormatError, DEFAULT_SCORE_OPTIONS, columnMatrix } from './types';
// Every detector by name: create, load, what its saved fit depends on.
export type { DetectorName, DetectorOptionsByName, DetectorOptionsMap, DetectorContext, DetectorKind } from './detectors';
export { DETECTORS, DETECTOR_NAMES, detectorKind, createDetectors, detectorOptionsKeys } from './detectors';
export type { ZScoreOptions } from './zscore-detector';
export type { MadOptions } from './mad-detector';
export type { BandOptions } from './band-detector';
export type { IsolationForestDetectorOptions } from './isolation-forest-detector';
export type { PatternOptions } from './pattern-detector';
export type { JumpOptions } from './jump-detector';
export { MAX_JUMP_WINDOW } from './jump-detector';
// One series: features, detectors, seasonal profile, ensemble.
export { SeriesModel, detectorContext, keepDetectorStates, MAX_SCORE } from './series-model';
export type { SeriesModelConfig, SeriesModelState, SeriesScores, SeasonContext, FitOutcome } from './series-model';
export type { SeasonalOptions, SeasonalState } from './seasonal-profile';
export type { CombineMethod } from './ensemble';
// Multivariate scoring over a group's signals.
export { CalibratedForest } from './calibrated-forest';
export type { CalibratedForestOptions, CalibratedForestState } from './calibrated-forest';
export { IsolationForest } from './isolation-forest';
// Compact state and seeded randomness.
export { encodeState, decodeState } from './typed-array-codec';
export type { Base64Codec } from './typed-array-codec';
export { Prng } from './prng';
// Samples in half the memory: Float32 offsets from a base.
export { putOffset, getOffset, decodeOffsets, rebase } from './offset-float32';
export type { OffsetStore } from './offset-float32';
