/**
 * The signals' models as saved state, and back: what each signal's models depend on (hashed, so
 * a config change drops exactly what it invalidates), the export for the state store and the
 * restore that lets scoring go on from each series' last scored sample.
 */
import { errorMessage } from '../../common/errors';
import { Logger } from '../../common/logger';
import { detectorContext, detectorOptionsKeys, SeriesModel } from '../../models';
import { SeriesTracker } from '../cycle/series-tracker';
import { SignalCycle } from '../cycle/signal-cycle';
import { labelKey } from '../read/query-range-response';
import { SavedSignal, stableHash } from './state-store';

export interface StateHashes {
  /** What every model of the signal depends on: query, scoring, step, seasonal profile. */
  signalHash: string;
  /** Per detector, what its fits depend on (the registry's options key). */
  detectorHashes: Record<string, string>;
}

export function stateHashes(s: SignalCycle, stepSeconds: number): StateHashes {
  const c = s.modelConfig;
  const zone = s.tracking.seasonalZone;
  const keys = detectorOptionsKeys(c.detectors, detectorContext(c));
  return {
    signalHash: stableHash({ query: s.query, scoring: c.scoring, step: stepSeconds, seasonal: c.seasonal ?? null, timezone: zone ?? null }),
    detectorHashes: Object.fromEntries(Object.entries(keys).map(([name, key]) => [name, stableHash(key)])),
  };
}

/** A signal's models for the state store (typed arrays shared, not copied). */
export function exportSignal(s: SignalCycle, stepSeconds: number): SavedSignal {
  return {
    signal: s.name,
    ...stateHashes(s, stepSeconds),
    lastFit: s.lastFit,
    series: [...s.series.values()].map((x) => ({ ...x.saved(), model: x.model.toState() })),
  };
}

/**
 * Restores saved models (from StateStore.load, already checked against the config): scoring goes
 * on from each series' last scored sample, without a new warm-up. Returns the series restored; a
 * series whose state is unusable starts fresh, with a warning.
 */
export function restoreSignal(s: SignalCycle, saved: SavedSignal, log: Logger, nowSeconds = Date.now() / 1000): number {
  let restored = 0;
  for (const entry of saved.series) {
    try {
      const model = SeriesModel.load(entry.model, s.modelConfig);
      // A last scored sample in the future (a clock that was ahead, an edited file) would leave
      // every sample until then unscored: the series would look fine and say nothing.
      if (Number.isFinite(entry.lastTs) && entry.lastTs > nowSeconds) {
        log.warn('saved series state has its last scored sample in the future; scoring goes on from now', {
          signal: s.name,
          labels: entry.labels,
          last_ts: entry.lastTs,
        });
        entry.lastTs = Math.floor(nowSeconds);
      }
      s.series.set(labelKey(entry.labels), SeriesTracker.restore(entry, model, s.tracking));
      restored++;
    } catch (err) {
      log.warn('saved series state unusable; that series starts fresh', { signal: s.name, labels: entry.labels, error: errorMessage(err) });
    }
  }
  if (Number.isFinite(saved.lastFit)) {
    s.lastFit = saved.lastFit;
    s.lastFitAttempt = saved.lastFit;
  }
  return restored;
}
