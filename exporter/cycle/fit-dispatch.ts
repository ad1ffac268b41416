/**
 * Hands a signal's refit to the fitter in batches and adopts each fit into its series' tracker.
 * Batches stream with a few in flight per worker, so training copies and messages for thousands
 * of series never pile up at once.
 */
import { Logger } from '../../common/logger';
import { SeriesModel, SeriesModelConfig } from '../../models';
import { hoursOfWeek } from './local-time';
import { SeriesTracker } from './series-tracker';
import { trainingSamples } from './training-window';
import { SeriesSamples } from './signal-window';
import { FitPool } from '../fit/fit-pool';
import { FitJob } from '../fit/fit-protocol';

/** Series per refit batch handed to the fitter. */
const FIT_BATCH = 32;

export type Fitter = Pick<FitPool, 'fit' | 'size'>;

export interface FitRequest {
  signal: string;
  modelConfig: SeriesModelConfig;
  /** The time zone of the seasonal profile's hours, when it is enabled. */
  seasonalZone?: string;
  /** Cycle end, seconds: the fits' fittedAt. */
  endSeconds: number;
  /** Fit only the series whose models are not fully fitted yet. */
  warmingOnly: boolean;
  /** scheduler.accept_after in seconds: see SeriesTracker.trainingExclusions. */
  acceptAfterSeconds: number;
  fitWindowSeconds: number;
}

/** Refits the trackers on their series' training samples; returns how many series were handed to the fitter. */
export async function fitSeries(fitter: Fitter, req: FitRequest, samples: SeriesSamples[], trackers: SeriesTracker[], log: Logger): Promise<number> {
  const window = Math.max(2, 2 * fitter.size);
  const inflight = new Set<Promise<void>>();
  let fitted = 0;
  for (let from = 0; from < samples.length; from += FIT_BATCH) {
    const jobs: FitJob[] = [];
    const owners: { tracker: SeriesTracker; trainedUntil: number }[] = [];
    for (let k = from; k < Math.min(samples.length, from + FIT_BATCH); k++) {
      const tracker = trackers[k];
      if (req.warmingOnly && tracker.model.fullyFitted) continue;
      const excluded = tracker.trainingExclusions(req.endSeconds, req.endSeconds - req.fitWindowSeconds, req.acceptAfterSeconds);
      const training = trainingSamples(samples[k].read(), tracker.lastTs, excluded);
      if (!training) continue;
      const job: FitJob = { key: String(k), values: training.values, keepOnline: tracker.model.onlineFitted };
      if (req.seasonalZone !== undefined) {
        job.times = training.times;
        job.slots = hoursOfWeek(training.times, req.seasonalZone);
        job.seasonal = tracker.model.seasonalState;
      }
      jobs.push(job);
      owners.push({ tracker, trainedUntil: training.trainedUntil });
    }
    if (jobs.length === 0) continue;
    fitted += jobs.length;
    const p = fitter.fit(req.modelConfig, jobs, req.endSeconds).then((results) =>
      results.forEach((result, j) => {
        const { tracker, trainedUntil } = owners[j];
        if (!result.state) {
          log.warn('fit failed', { signal: req.signal, labels: tracker.labels, error: result.error });
          return;
        }
        tracker.model.adoptFit(SeriesModel.load(result.state, req.modelConfig));
        tracker.lastTs = Math.max(tracker.lastTs, trainedUntil);
      }),
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= window) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  return fitted;
}
