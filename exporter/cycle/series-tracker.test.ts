import { DEFAULT_SCORE_OPTIONS, SeriesModel, SeriesModelConfig } from '../../models';
import { SeriesTracker, TrackerContext } from './series-tracker';

const modelConfig: SeriesModelConfig = {
  detectors: { zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples: 0 } },
  combine: 'max',
  scoring: DEFAULT_SCORE_OPTIONS,
  levelAlpha: 0.1,
};
const ctx: TrackerContext = { signal: 'latency', modelConfig, holdSamples: 3, historySamples: 10 };

/** A tracker whose model knows a level of 10 ± about 1. */
function fitted(labels: Record<string, string> = { service: 'checkout' }): SeriesTracker {
  const model = new SeriesModel(modelConfig);
  model.fit(
    Float64Array.from({ length: 200 }, (_, i) => 10 + Math.sin(i)),
    0,
  );
  return new SeriesTracker(labels, model, ctx, 0);
}

const raw = (from: number, values: number[]) => ({
  labels: {},
  timestamps: Float64Array.from(values, (_, i) => (from + i) * 60),
  values: Float64Array.from(values),
});

/** The same, one sample an hour: a series sampled less often than accept_after. */
const hourly = (from: number, values: number[]) => ({
  labels: {},
  timestamps: Float64Array.from(values, (_, i) => (from + i) * 3600),
  values: Float64Array.from(values),
});

describe('series tracker', () => {
  it('publishes with signal added, and keeps a source label named signal or model as exported_<name>', () => {
    const t = fitted({ service: 'checkout', signal: 'src', model: 'm' });
    expect(t.publicLabels).toEqual({ service: 'checkout', exported_signal: 'src', exported_model: 'm', signal: 'latency' });
  });

  it('scores each sample once: a second read of the same range changes nothing', () => {
    const t = fitted();
    const first = t.score(raw(1, [10, 10.5, 9.5]));
    expect(first?.timestampSeconds).toBe(180);
    expect(t.history.size).toBe(3);
    expect(t.score(raw(1, [10, 10.5, 9.5]))).toBe(first);
    expect(t.history.size).toBe(3);
  });

  it('is anomalous from the first score above 1 until hold_samples normal samples pass', () => {
    const t = fitted();
    t.score(raw(1, [10]));
    expect(t.latest?.anomalous).toBe(false);
    const spike = t.score(raw(2, [50]))!;
    expect(spike.ensemble).toBeGreaterThan(1);
    expect(spike).toMatchObject({ anomalous: true, onsetSeconds: 120 });
    expect(t.score(raw(3, [10, 10]))).toMatchObject({ anomalous: true, onsetSeconds: 120 });
    expect(t.score(raw(5, [10]))).toMatchObject({ anomalous: false, onsetSeconds: undefined });
  });

  it('keeps the onset of a stretch while it goes on', () => {
    const t = fitted();
    t.score(raw(1, [50, 10, 50, 10]));
    expect(t.latest).toMatchObject({ anomalous: true, onsetSeconds: 60 });
  });

  it('skips NaN and ±Inf samples, which are gaps, not values', () => {
    const t = fitted();
    expect(t.score(raw(1, [10, NaN, Infinity]))?.timestampSeconds).toBe(60);
    expect(t.lastTs).toBe(60);
  });

  it('keeps the recent finite samples within the correlation window', () => {
    const t = fitted();
    t.keepRecent(raw(1, [1, 2, NaN, 4]), 120);
    expect(t.recent).toEqual({ ts: [120, 240], values: [2, 4] });
    t.keepRecent(raw(3, [NaN, 4, 5]), 200);
    expect(t.recent).toEqual({ ts: [240, 300], values: [4, 5] });
  });

  it('goes on from saved state: last scored sample and the anomalous stretch', () => {
    const saved = fitted();
    saved.score(raw(1, [10, 50]));
    const t = SeriesTracker.restore({ labels: saved.labels, lastTs: saved.lastTs, onset: saved.onset, sinceFlag: saved.sinceFlag }, saved.model, ctx);
    expect(t.score(raw(1, [10, 50]))).toBeUndefined();
    expect(t.score(raw(3, [10]))).toMatchObject({ anomalous: true, onsetSeconds: 120 });
  });

  it('remembers an incident once it is over, and refits leave it out while it is in the fit window', () => {
    const t = fitted();
    t.score(raw(1, [10, 50, 50, 10, 10, 10])); // anomalous at 120 s, over after 3 normal samples (at 360 s)
    expect(t.incidents).toEqual([[120, 360]]);
    expect(t.trainingExclusions(400, 0, 1800)).toEqual([[120, 360]]);
    // Out of the window: forgotten.
    expect(t.trainingExclusions(10_000, 1000, 1800)).toEqual([]);
  });

  it("leaves an incident's shoulders out too: the rise above half the band before its onset and the fall after its hold", () => {
    const t = fitted();
    // Band edge about 10 ± 2.8: 11.8 scores about 0.6, 50 far above 1.
    t.score(raw(1, [10, 11.8, 11.9, 50]));
    expect(t.onset).toBe(240);
    expect(t.trainingExclusions(300, 0, 1800)).toEqual([[120, Infinity]]);
    // Over after 3 samples without a score above 1 (at 420 s), still above half the band until 480 s.
    t.score(raw(5, [10, 10, 11.8, 11.9, 10, 11.8]));
    expect(t.incidents).toEqual([[120, 480]]);
    // A lone sample above half the band later is no incident.
    expect(t.trainingExclusions(700, 0, 1800)).toEqual([[120, 480]]);
  });

  it('leaves out an ongoing anomaly younger than accept_after; older, takes it as the new normal for good', () => {
    const t = fitted();
    t.score(raw(1, [10, 50, 50]));
    expect(t.trainingExclusions(180, 0, 600)).toEqual([[120, Infinity]]);
    expect(t.trainingExclusions(720, 0, 600)).toEqual([]);
    // Accepted: when it ends, it is not remembered as an incident to leave out.
    t.score(raw(4, [10, 10, 10]));
    expect(t.onset).toBeUndefined();
    expect(t.incidents).toEqual([]);
  });

  it('takes a spike a refit accepted on its first sample back out once the series went back (an hourly series)', () => {
    const t = fitted();
    t.score(hourly(1, [10, 50]));
    // The first refit after the onset is an hour on: older than accept_after, on one sample.
    expect(t.trainingExclusions(3 * 3600, 0, 600)).toEqual([]);
    t.score(hourly(3, [10, 10, 10]));
    expect(t.onset).toBeUndefined();
    // Back within the band it began outside of: remembered, so later refits leave it out.
    expect(t.incidents).toEqual([[7200, 5 * 3600]]);
  });

  it('keeps a change a refit accepted on its first sample when the series stayed changed', () => {
    const t = fitted();
    t.score(hourly(1, [10, 50]));
    expect(t.trainingExclusions(3 * 3600, 0, 600)).toEqual([]);
    // The refit took the new level in; this model did not, so it keeps scoring it above 1 and
    // then stays quiet at the new level through the hold.
    t.score(hourly(3, [50, 50]));
    expect(t.onset).toBe(7200);
    const quiet = new SeriesModel(modelConfig);
    quiet.fit(
      Float64Array.from({ length: 200 }, (_, i) => 50 + Math.sin(i)),
      0,
    );
    t.model.adoptFit(quiet);
    t.score(hourly(5, [50, 50, 50]));
    expect(t.onset).toBeUndefined();
    expect(t.incidents).toEqual([]);
  });

  it('restores its incidents from saved state, dropping malformed ones', () => {
    const saved = fitted();
    const t = SeriesTracker.restore({ labels: saved.labels, lastTs: 0, incidents: [[1, 2], [NaN, 3] as [number, number]] }, saved.model, ctx);
    expect(t.incidents).toEqual([[1, 2]]);
  });
});
