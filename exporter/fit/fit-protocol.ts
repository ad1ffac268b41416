import {
  CalibratedForest,
  CalibratedForestOptions,
  CalibratedForestState,
  FeatureMatrix,
  FitOutcome,
  SeasonalState,
  SeriesModel,
  SeriesModelConfig,
  SeriesModelState,
} from '../../models';

/** Messages between FitPool and its workers. Typed arrays travel as transferables, not copies. */
export interface FitJob {
  key: string;
  /** Finite training values in time order. */
  values: Float64Array;
  /** Their times and hour-of-week slots, and the series' seasonal profile so far (it accumulates). */
  times?: Float64Array;
  slots?: Uint8Array;
  seasonal?: SeasonalState;
  /** The caller's model has its online detectors fitted: leave them out of this fit. */
  keepOnline?: boolean;
}

export interface FitBatch {
  id: number;
  config: SeriesModelConfig;
  fittedAtSeconds: number;
  jobs: FitJob[];
}

export interface FitResult {
  key: string;
  state?: SeriesModelState;
  outcome?: FitOutcome;
  error?: string;
}

export interface FitBatchResult {
  id: number;
  fits: FitResult[];
}

/** A batch of group forests to fit (per-group isolation forests: exporter/group/group-forests.ts). */
export interface ForestBatch {
  id: number;
  kind: 'forest';
  opts: CalibratedForestOptions;
  matrices: FeatureMatrix[];
}

export interface ForestResult {
  state?: CalibratedForestState;
  error?: string;
}

export interface ForestBatchResult {
  id: number;
  forests: ForestResult[];
}

/** Fits one group forest; the same code runs on a worker or on the calling thread. */
export function runForestJob(opts: CalibratedForestOptions, matrix: FeatureMatrix): ForestResult {
  try {
    const forest = new CalibratedForest(opts);
    forest.fit(matrix);
    return { state: forest.toState() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Every ArrayBuffer reachable in a message, so postMessage can move rather than copy them. */
export function collectTransferables(value: unknown, out: Set<ArrayBuffer> = new Set()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) out.add(value.buffer);
  } else if (Array.isArray(value)) {
    for (const v of value) collectTransferables(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collectTransferables(v, out);
  }
  return [...out];
}

/** Fits one series from scratch; the same code runs on a worker or on the calling thread. */
export function runFitJob(config: SeriesModelConfig, job: FitJob, fittedAtSeconds: number): FitResult {
  try {
    const model = SeriesModel.withSeasonal(config, job.seasonal);
    const outcome = model.fit(job.values, fittedAtSeconds, job.times && job.slots ? { times: job.times, slots: job.slots } : undefined, job.keepOnline);
    return { key: job.key, state: model.toState(), outcome };
  } catch (err) {
    return { key: job.key, error: (err as Error).message };
  }
}
