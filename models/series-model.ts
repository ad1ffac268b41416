import { CombineMethod, combineScores } from './ensemble';
import { configuredDetectors, createDetectors, DetectorContext, DetectorOptionsMap } from './detectors';
import { FeatureExtractor, FeatureExtractorState } from './feature-extractor';
import { SeasonalOptions, SeasonalProfile, SeasonalState } from './seasonal-profile';
import { Detector, DetectorState, NotEnoughDataError, ScoreOptions, Scores, StateFormatError } from './types';
import { decodeState, encodeState } from './typed-array-codec';

/** Which detectors a series runs and how their scores combine. */
export interface SeriesModelConfig {
  /** The detectors to run (see the registry in detectors.ts), each with its options. */
  detectors: DetectorOptionsMap;
  /** With a seasonal profile, the models in `seasonalModels` fit and score `value - seasonal offset`. */
  seasonal?: SeasonalOptions;
  /** Detectors that score the residual against the seasonal profile (all when absent); the others score the value itself. */
  seasonalModels?: string[];
  combine: CombineMethod;
  /**
   * Detectors whose scores make the ensemble score (all when absent). Their bands (scaled as their
   * scores are) make the published band, so a value outside it scores above 1.
   */
  ensembleModels?: string[];
  /** Per detector, a factor its score is multiplied by in the ensemble (1 when absent). */
  ensembleScale?: Record<string, number>;
  scoring: ScoreOptions;
  /** EWMA weight of the level feature (see FeatureExtractor). */
  levelAlpha: number;
}

export interface SeriesScores {
  rows: number;
  /** Per detector name, per row; 0 while that detector is warming up. */
  models: Record<string, Float64Array>;
  ensemble: Float64Array;
  expected: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

export interface SeriesModelState {
  version: number;
  extractor: FeatureExtractorState;
  /** The feature stream of the detectors that score values, when it differs from the residuals'. */
  valueExtractor?: FeatureExtractorState;
  /** Every training value was >= 0: the band is not drawn below 0. */
  nonNegative?: boolean;
  detectors: DetectorState[];
  seasonal?: SeasonalState;
}

/** Sample times (seconds) and their hour-of-week slots (0 = Monday 00:00 local), for the seasonal profile. */
export interface SeasonContext {
  times: Float64Array;
  slots: Uint8Array;
}

export interface FitOutcome {
  fitted: string[];
  warmingUp: string[];
}

/**
 * Everything one series needs: a causal feature stream and its detectors. Values given to `fit`
 * and `score` must be finite and in time order; callers drop NaN and ±Inf (gaps are normal input).
 */
export class SeriesModel {
  static readonly VERSION = 1;
  /** Features of the residuals against the seasonal profile (of the values when there is none). */
  private extractor: FeatureExtractor;
  /** Features of the values, for the detectors that do not score residuals; only with a seasonal profile. */
  private valueExtractor?: FeatureExtractor;
  private detectors: Detector[];
  private seasonal?: SeasonalProfile;
  private nonNegative = false;

  constructor(readonly config: SeriesModelConfig) {
    this.extractor = new FeatureExtractor(config.levelAlpha);
    this.detectors = SeriesModel.freshDetectors(config);
    if (config.seasonal) this.seasonal = new SeasonalProfile(config.seasonal);
    if (this.twoStreams) this.valueExtractor = new FeatureExtractor(config.levelAlpha);
  }

  /** A seasonal profile, and some detector that scores values rather than residuals. */
  private get twoStreams(): boolean {
    return Boolean(this.config.seasonal) && this.detectors.some((d) => !this.onResidual(d.name));
  }

  private onResidual(detector: string): boolean {
    return Boolean(this.config.seasonal) && (!this.config.seasonalModels || this.config.seasonalModels.includes(detector));
  }

  get detectorNames(): string[] {
    return this.detectors.map((d) => d.name);
  }

  /** Some detector is fitted, so the series scores. */
  get warm(): boolean {
    return this.detectors.some((d) => d.fitted);
  }

  /** Every online detector is fitted, so a refit can leave them out (see `fit`). */
  get onlineFitted(): boolean {
    return this.detectors.every((d) => !d.online || d.fitted);
  }

  /** Every detector is fitted (none still warming up). */
  get fullyFitted(): boolean {
    return this.detectors.every((d) => d.fitted);
  }

  /**
   * Refits every detector on `values` (replacing the old fits); a detector short of samples keeps
   * its previous fit, if any. An online detector (it learns from every scored sample) that is
   * already fitted is kept as it is; with `keepOnline` it is not fitted here at all, because the
   * caller's model has it (a fit on a worker thread, adopted with adoptFit).
   * The feature stream continues from the end of `values`.
   */
  fit(values: Float64Array, fittedAtSeconds: number, season?: SeasonContext, keepOnline = false): FitOutcome {
    const adjusted = this.seasonal && season ? this.seasonalTraining(values, season) : values;
    const extractor = new FeatureExtractor(this.config.levelAlpha);
    const features = extractor.extract(adjusted);
    const valueExtractor = this.twoStreams ? new FeatureExtractor(this.config.levelAlpha) : undefined;
    const valueFeatures = valueExtractor ? valueExtractor.extract(values) : features;
    let min = Infinity;
    for (let i = 0; i < values.length; i++) if (values[i] < min) min = values[i];
    const fresh = SeriesModel.freshDetectors(this.config);
    const outcome: FitOutcome = { fitted: [], warmingUp: [] };
    this.detectors = fresh.map((d, i) => {
      const previous = this.detectors[i];
      if (d.online && (keepOnline || previous?.fitted)) {
        outcome.fitted.push(d.name);
        return previous?.fitted ? previous : d;
      }
      try {
        d.fit(this.onResidual(d.name) ? features : valueFeatures, fittedAtSeconds);
        outcome.fitted.push(d.name);
        return d;
      } catch (err) {
        if (!(err instanceof NotEnoughDataError)) throw err;
        if (previous?.fitted) {
          outcome.fitted.push(d.name);
          return previous;
        }
        outcome.warmingUp.push(d.name);
        return d;
      }
    });
    this.extractor = extractor;
    this.valueExtractor = valueExtractor;
    if (values.length > 0) this.nonNegative = min >= 0;
    return outcome;
  }

  /**
   * Training values for the models when seasonal: residuals against the profile as it was before
   * each sample, keeping only those whose hour the profile already knew (when at least 30 are),
   * so the hours it was still learning do not widen every band with the raw cycle.
   */
  private seasonalTraining(values: Float64Array, season: SeasonContext): Float64Array {
    const { residuals, known } = this.seasonal!.learnResiduals(values, season.times, season.slots);
    let n = 0;
    for (let i = 0; i < known.length; i++) n += known[i];
    if (n < 30) return residuals;
    // The profile has just come to know its hours (its first whole day ended inside this window):
    // the samples it had already seen do not count as known, so rather than training on the few
    // newest ones, take every sample against the profile as it is now.
    if (n < values.length / 2) return this.seasonal!.residuals(values, season.slots);
    const out = new Float64Array(n);
    for (let i = 0, o = 0; i < known.length; i++) if (known[i]) out[o++] = residuals[i];
    return out;
  }

  /** The seasonal profile's state, to carry it into a fit made elsewhere (a worker). */
  get seasonalState(): SeasonalState | undefined {
    return this.seasonal?.toState();
  }

  /** A fresh model that starts from an existing seasonal profile (which accumulates across fits). */
  static withSeasonal(config: SeriesModelConfig, seasonal?: SeasonalState): SeriesModel {
    const m = new SeriesModel(config);
    if (config.seasonal && seasonal) m.seasonal = SeasonalProfile.load(seasonal, config.seasonal);
    return m;
  }

  /**
   * Scores new values in order and advances the feature stream past them. With a seasonal
   * profile and slots, the models score the residuals and the band is shifted back by the offset.
   * With `learn` false the online detectors do not calibrate on these values (maintenance).
   */
  score(values: Float64Array, slots?: Uint8Array, learn = true): SeriesScores {
    const seasonal = this.seasonal && slots ? this.seasonal : undefined;
    const features = this.extractor.extract(seasonal ? seasonal.residuals(values, slots!) : values);
    const valueFeatures = this.valueExtractor ? this.valueExtractor.extract(values) : features;
    const rows = features.rows;
    const models: Record<string, Float64Array> = {};
    const parts: Scores[] = [];
    const voters = this.config.ensembleModels;
    for (const d of this.detectors) {
      if (!d.fitted) {
        models[d.name] = new Float64Array(rows);
        continue;
      }
      const residual = this.onResidual(d.name);
      const s = d.score(residual ? features : valueFeatures, learn);
      capScores(s.score);
      models[d.name] = s.score;
      if (voters && !voters.includes(d.name)) continue;
      const part = scaled(s, this.config.ensembleScale?.[d.name]);
      if (seasonal && residual && part.expected) shiftBand(part, seasonal, slots!);
      parts.push(part);
    }
    const combined = combineScores(parts, this.config.combine, rows);
    capScores(combined.score);
    if (this.nonNegative) {
      for (let r = 0; r < rows; r++) if (combined.lower[r] < 0) combined.lower[r] = 0;
    }
    return { rows, models, ensemble: combined.score, expected: combined.expected, lower: combined.lower, upper: combined.upper };
  }

  /** State with typed arrays as they are: for passing between threads (structured clone). */
  toState(): SeriesModelState {
    return {
      version: SeriesModel.VERSION,
      extractor: this.extractor.toJSON(),
      valueExtractor: this.valueExtractor?.toJSON(),
      nonNegative: this.nonNegative,
      detectors: this.detectors.map((d) => d.toState()),
      seasonal: this.seasonal?.toState(),
    };
  }

  /** Compact JSON state (typed arrays as base64). */
  toJSON(): SeriesModelState {
    return encodeState(this.toState()) as SeriesModelState;
  }

  /**
   * Takes the fit of `other` (same config, fitted elsewhere, e.g. on a worker thread): its
   * feature stream, and each detector it fitted; a detector it could not fit (short of samples)
   * keeps this model's previous fit, as `fit` does, and so does a fitted online detector.
   */
  adoptFit(other: SeriesModel): void {
    this.detectors = other.detectors.map((d, i) => {
      const mine = this.detectors[i];
      if (mine?.fitted && (d.online || !d.fitted)) return mine;
      return d;
    });
    this.extractor = other.extractor;
    this.valueExtractor = other.valueExtractor;
    this.nonNegative = other.nonNegative;
    if (other.seasonal) this.seasonal = other.seasonal;
  }

  static load(state: SeriesModelState, config: SeriesModelConfig): SeriesModel {
    if (state?.version !== SeriesModel.VERSION)
      throw new StateFormatError(`series model state version ${String(state?.version)} is not ${SeriesModel.VERSION}`);
    const m = new SeriesModel(config);
    state = decodeState(state) as SeriesModelState;
    m.extractor = FeatureExtractor.load(state.extractor, config.levelAlpha);
    // A state saved before the value stream existed: it starts from the residuals' stream.
    if (m.valueExtractor) m.valueExtractor = FeatureExtractor.load(state.valueExtractor ?? state.extractor, config.levelAlpha);
    m.nonNegative = state.nonNegative === true;
    if (config.seasonal && state.seasonal) m.seasonal = SeasonalProfile.load(state.seasonal, config.seasonal);
    const byName = new Map(state.detectors.map((d) => [d.name, d]));
    const ctx = detectorContext(config);
    m.detectors = configuredDetectors(config.detectors).map((d, i) => {
      const s = byName.get(d.name);
      if (!s || s.nSamples === 0) return m.detectors[i];
      return d.kind.load(s, d.opts, ctx);
    });
    return m;
  }

  /**
   * This model under another config of the same signal (a config reload that changed some
   * detector's options, not the scoring, step or seasonal profile): the detectors `keep` accepts
   * and the seasonal profile move over as they are, not copied; the others start fresh, as
   * `load(keepDetectorStates(...))` would make them, without a copy of every kept fit. This model
   * must not be used afterwards: the new one owns its parts.
   */
  movedTo(config: SeriesModelConfig, keep: (detector: string) => boolean): SeriesModel {
    const m = new SeriesModel(config);
    // The feature streams are a few numbers: taken through their state, so a changed level weight applies as on a load.
    m.extractor = FeatureExtractor.load(this.extractor.toJSON(), config.levelAlpha);
    if (m.valueExtractor) m.valueExtractor = FeatureExtractor.load((this.valueExtractor ?? this.extractor).toJSON(), config.levelAlpha);
    m.nonNegative = this.nonNegative;
    if (config.seasonal && this.seasonal) m.seasonal = this.seasonal;
    const mine = new Map(this.detectors.map((d) => [d.name, d]));
    m.detectors = m.detectors.map((fresh) => {
      const d = mine.get(fresh.name);
      return d && keep(fresh.name) ? d : fresh;
    });
    return m;
  }

  private static freshDetectors(config: SeriesModelConfig): Detector[] {
    return createDetectors(config.detectors, detectorContext(config));
  }
}

/**
 * The state with only the detectors `keep` accepts (the others start fresh when it is loaded); a
 * state that is not a series model's is returned as it is, for SeriesModel.load to refuse.
 */
export function keepDetectorStates(state: SeriesModelState, keep: (name: string) => boolean): SeriesModelState {
  if (!state || !Array.isArray(state.detectors)) return state;
  return { ...state, detectors: state.detectors.filter((d) => keep(d?.name)) };
}

/**
 * The largest published score. A band of zero width (a series that never moved, with no minimum
 * deviation configured) makes any change score in the millions: the score says "far outside the
 * band" and stays readable on a dashboard and in an alert.
 */
export const MAX_SCORE = 100;

/** Caps scores at MAX_SCORE, in place (the arrays are the detectors' fresh output). */
function capScores(score: Float64Array): void {
  for (let i = 0; i < score.length; i++) if (score[i] > MAX_SCORE) score[i] = MAX_SCORE;
}

/** What every detector of a series shares. */
export function detectorContext(config: SeriesModelConfig): DetectorContext {
  return { scoring: config.scoring, levelAlpha: config.levelAlpha };
}

/**
 * The scores multiplied by `factor` (for the ensemble only; the model's own score is published as
 * is), and the band divided by it about the expected value, so the band still lies at score 1.
 */
function scaled(s: Scores, factor: number | undefined): Scores {
  if (factor === undefined || factor === 1) return s;
  const score = new Float64Array(s.score.length);
  for (let i = 0; i < score.length; i++) score[i] = s.score[i] * factor;
  if (!s.expected || !s.lower || !s.upper) return { score };
  const lower = new Float64Array(score.length);
  const upper = new Float64Array(score.length);
  for (let i = 0; i < score.length; i++) {
    lower[i] = s.expected[i] - (s.expected[i] - s.lower[i]) / factor;
    upper[i] = s.expected[i] + (s.upper[i] - s.expected[i]) / factor;
  }
  return { score, expected: s.expected, lower, upper };
}

/** Moves a band fitted on residuals back by each row's seasonal offset (in place: the arrays are the detector's fresh output). */
function shiftBand(s: Scores, seasonal: SeasonalProfile, slots: Uint8Array): void {
  const expected = s.expected as Float64Array;
  const lower = s.lower as Float64Array;
  const upper = s.upper as Float64Array;
  for (let r = 0; r < expected.length; r++) {
    const o = seasonal.offset(slots[r]);
    expected[r] += o;
    lower[r] += o;
    upper[r] += o;
  }
}
