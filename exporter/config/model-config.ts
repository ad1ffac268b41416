import { SeriesModelConfig } from '../../models';
import { ExporterConfig, SignalConfig } from './config';
import { ensembleModels, ensembleScale } from './config-schema';
import { detectorOptions, DetectorSections } from './detector-config';

/** Translates the config's model sections and a signal's scoring options into a SeriesModelConfig. */
export function seriesModelConfig(config: ExporterConfig, signal: SignalConfig): SeriesModelConfig {
  const m = config.models;
  const sections: Partial<DetectorSections> = m;
  return {
    detectors: detectorOptions(sections, config.scheduler.step),
    seasonal: m.seasonal ? { minSamplesPerSlot: m.seasonal.min_samples_per_slot, memory: m.seasonal.memory } : undefined,
    seasonalModels: m.seasonal?.models,
    combine: config.ensemble.combine,
    ensembleModels: ensembleModels(config),
    ensembleScale: ensembleScale(config),
    scoring: { direction: signal.direction, minDeviation: signal.min_deviation, minRelativeDeviation: signal.min_relative_deviation },
    levelAlpha: 2 / ((m.isolation_forest?.level_window ?? 20) + 1),
  };
}
