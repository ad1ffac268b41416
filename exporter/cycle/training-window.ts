/**
 * Which samples a cycle reads, and which of them a refit trains on (pure).
 */
import { RawSeries } from '../read/reader';

/**
 * Where a scoring cycle's read starts: just after the oldest series' last scored sample, but
 * within the fit window; with nothing scored yet, one infer interval back.
 */
export function scoringStart(
  oldestLastTs: number,
  endSeconds: number,
  o: { fitWindowSeconds: number; inferEverySeconds: number; stepSeconds: number },
): number {
  const floor = endSeconds - o.fitWindowSeconds;
  if (!Number.isFinite(oldestLastTs)) return Math.max(floor, endSeconds - o.inferEverySeconds);
  return Math.min(endSeconds, Math.max(floor, oldestLastTs + o.stepSeconds));
}

export interface TrainingSamples {
  values: Float64Array;
  times: Float64Array;
  /** Time of the newest training sample: the series' models have seen everything up to it. */
  trainedUntil: number;
}

/**
 * The training samples of a series: its finite samples up to the last one already scored (or all
 * but the newest for a series never scored), so the samples after it are scored by the new fit,
 * leaving out those within the `excluded` spans ([from, to], seconds: incidents, so that an
 * anomaly is not learned as normal). Undefined when there is none.
 */
export function trainingSamples(r: RawSeries, lastScoredTs: number, excluded: readonly (readonly [number, number])[] = []): TrainingSamples | undefined {
  const t = keptSamples(r, lastScoredTs, excluded);
  if (!t) return t;
  // Leaving past incidents out must not make the series look flat: on a series that is mostly
  // one value (a count of rare events), every past incident would be left out and the next one
  // would page however often it happens. Then the past incidents are trained on; an ongoing one
  // (open-ended span) is still left out.
  const flat = t.values.every((v) => v === t.values[0]);
  if (!flat || !excluded.some(([, to]) => Number.isFinite(to))) return t;
  return keptSamples(
    r,
    lastScoredTs,
    excluded.filter(([, to]) => !Number.isFinite(to)),
  );
}

function keptSamples(r: RawSeries, lastScoredTs: number, excluded: readonly (readonly [number, number])[]): TrainingSamples | undefined {
  const cutoff = Number.isFinite(lastScoredTs) ? lastScoredTs : (r.timestamps[r.timestamps.length - 2] ?? -Infinity);
  const inIncident = (t: number) => excluded.some(([from, to]) => t >= from && t <= to);
  const kept = (i: number) => Number.isFinite(r.values[i]) && !inIncident(r.timestamps[i]);
  let n = 0;
  let end = 0;
  while (end < r.values.length && r.timestamps[end] <= cutoff) {
    if (kept(end)) n++;
    end++;
  }
  if (n === 0) return undefined;
  const values = new Float64Array(n);
  const times = new Float64Array(n);
  for (let i = 0, o = 0; i < end; i++) {
    if (kept(i)) {
      values[o] = r.values[i];
      times[o++] = r.timestamps[i];
    }
  }
  // The models have seen every sample up to the cutoff, left out or not: none is scored twice.
  let until = times[n - 1];
  for (let i = end - 1; i >= 0; i--) {
    if (Number.isFinite(r.values[i])) {
      until = r.timestamps[i];
      break;
    }
  }
  return { values, times, trainedUntil: until };
}
