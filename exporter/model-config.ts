import { SeriesModelConfig } from '../models';
import { ExporterConfig, SignalConfig } from './config';
import { ensembleModels, ensembleScale } from './config-schema';

/** Translates the config's model sections and a signal's scoring options into a SeriesModelConfig. */
export function seriesModelConfig(config: ExporterConfig, signal: SignalConfig): SeriesModelConfig {
  const m = config.models;
  const iforest = m.isolation_forest;
  return {
    zscore: m.zscore && bandOptions(m.zscore),
    mad: m.mad && bandOptions(m.mad),
    isolationForest: iforest
      ? {
          trees: iforest.trees,
          sampleSize: iforest.sample_size,
          seed: iforest.seed,
          contamination: iforest.contamination,
          minSamples: iforest.min_samples,
          calibrationSamples: iforest.calibration_samples,
        }
      : undefined,
    pattern: m.pattern && { window: m.pattern.window, history: m.pattern.history, factor: m.pattern.factor, minSamples: m.pattern.min_samples },
    seasonal: m.seasonal ? { minSamplesPerSlot: m.seasonal.min_samples_per_slot, memory: m.seasonal.memory } : undefined,
    combine: config.ensemble.combine,
    ensembleModels: ensembleModels(config),
    ensembleScale: ensembleScale(config),
    scoring: { direction: signal.direction, minDeviation: signal.min_deviation, minRelativeDeviation: signal.min_relative_deviation },
    levelAlpha: 2 / ((iforest?.level_window ?? 20) + 1),
  };
}

function bandOptions(m: { threshold: number; min_samples: number; contamination: number; adapt_samples: number }) {
  return { threshold: m.threshold, minSamples: m.min_samples, contamination: m.contamination, adaptSamples: m.adapt_samples };
}
