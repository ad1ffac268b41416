import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SCORE_OPTIONS, SeriesModel, SeriesModelConfig } from '../../models';
import { feedbackKind } from '../../common/vocabulary';
import { SeriesTracker, TrackerContext } from '../cycle/series-tracker';
import { FeedbackBook } from './feedback-book';
import { FeedbackMark, markFromSilence, markMatches } from './feedback-mark';

const modelConfig: SeriesModelConfig = {
  detectors: { zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples: 0 } },
  combine: 'max',
  scoring: DEFAULT_SCORE_OPTIONS,
  levelAlpha: 0.1,
};
const ctx: TrackerContext = {
  signal: 'errors',
  modelConfig,
  holdSamples: 3,
  historySamples: 60,
  feedback: { margin: 1.25, lookbackSeconds: 3600, halfLifeSeconds: Infinity, timeOfDaySeconds: Infinity },
};

function fitted(): SeriesTracker {
  const model = new SeriesModel(modelConfig);
  model.fit(
    Float64Array.from({ length: 200 }, (_, i) => 10 + Math.sin(i)),
    0,
  );
  return new SeriesTracker({ service: 'checkout' }, model, ctx, 0);
}

const raw = (from: number, values: number[]) => ({
  labels: {},
  timestamps: Float64Array.from(values, (_, i) => (from + i) * 60),
  values: Float64Array.from(values),
});

const mark = (over: Partial<FeedbackMark>): FeedbackMark => ({
  id: 's1',
  kind: 'false_positive',
  matchers: [{ name: 'service', value: 'checkout', isRegex: false, isEqual: true }],
  fromSeconds: 0,
  toSeconds: 0,
  exact: true,
  createdBy: 'test',
  ...over,
});

/** Feeds a fault of `size` above the level at minute `at` for 3 minutes; the highest score. */
function fault(t: SeriesTracker, at: number, size: number): number {
  let peak = 0;
  for (let i = 0; i < 3; i++) peak = Math.max(peak, t.score(raw(at + i, [10 + size]))!.ensemble);
  t.score(raw(at + 3, [10, 10, 10, 10]));
  return peak;
}

describe('feedback marks from Alertmanager silences', () => {
  const silence = {
    id: 'abc',
    matchers: [{ name: 'service', value: 'checkout', isRegex: false, isEqual: true }],
    startsAt: '2026-12-07T10:00:00Z',
    endsAt: '2026-12-07T12:00:00Z',
    createdBy: 'alice',
    comment: 'anomaly: false-positive deploy noise',
  };

  it('reads the marker at the start of the comment, case-insensitively, and nothing else', () => {
    expect(feedbackKind('anomaly: false-positive')).toBe('false_positive');
    expect(feedbackKind('  Anomaly: Maintenance window for db')).toBe('maintenance');
    expect(feedbackKind('anomaly: maintenance-ish')).toBeUndefined();
    expect(feedbackKind('deploy; anomaly: false-positive')).toBeUndefined();
    expect(markFromSilence({ ...silence, comment: 'routine silence' })).toBeUndefined();
  });

  it('takes the span from the silence, or exactly from span= in the comment (Alertmanager moves a past start to now)', () => {
    expect(markFromSilence(silence)).toMatchObject({ kind: 'false_positive', fromSeconds: Date.parse(silence.startsAt) / 1000, exact: false });
    const m = markFromSilence({ ...silence, comment: 'anomaly: false-positive span=2026-12-07T09:00:00Z/2026-12-07T09:05:00Z episode 4' });
    expect(m).toMatchObject({ fromSeconds: Date.parse('2026-12-07T09:00:00Z') / 1000, toSeconds: Date.parse('2026-12-07T09:05:00Z') / 1000, exact: true });
    const open = markFromSilence({ ...silence, comment: 'anomaly: false-positive span=2026-12-07T09:00:00Z/ episode 5' });
    expect(open).toMatchObject({
      fromSeconds: Date.parse('2026-12-07T09:00:00Z') / 1000,
      toSeconds: Date.parse(silence.startsAt) / 1000,
      exact: true,
      open: true,
    });
    expect(markFromSilence({ ...silence, startsAt: 'yesterday' })).toBeUndefined();
  });

  it('matches series as Alertmanager matches alerts, ignoring the labels only the alert rules add', () => {
    const labels = { service: 'checkout', signal: 'errors' };
    const m = (matchers: FeedbackMark['matchers']) => markMatches(mark({ matchers }), labels);
    expect(
      m([
        { name: 'alertname', value: 'AnomalousSignal', isRegex: false, isEqual: true },
        { name: 'service', value: 'checkout', isRegex: false },
      ]),
    ).toBe(true);
    expect(m([{ name: 'signal', value: 'err.*', isRegex: true, isEqual: true }])).toBe(true);
    expect(m([{ name: 'signal', value: 'err', isRegex: true, isEqual: true }])).toBe(false); // anchored
    expect(m([{ name: 'service', value: 'checkout', isRegex: false, isEqual: false }])).toBe(false);
    expect(m([{ name: 'instance', value: 'x', isRegex: false, isEqual: true }])).toBe(false);
    expect(m([{ name: 'signal', value: '(', isRegex: true, isEqual: true }])).toBe(false); // invalid: never matches
  });

  it('keeps marks across a restart, and counts each only when it first arrives', () => {
    const counted: string[] = [];
    const book = new FeedbackBook((k) => counted.push(k));
    book.merge([mark({ id: 'a', toSeconds: 100 }), mark({ id: 'b', kind: 'maintenance', toSeconds: 200 })]);
    book.merge([mark({ id: 'a', toSeconds: 100 })]);
    expect(counted).toEqual(['false_positive', 'maintenance']);
    const v = book.version;
    book.merge([mark({ id: 'a', toSeconds: 150 })]); // expired later: changed, not new
    expect(book.version).toBe(v + 1);
    const dir = mkdtempSync(join(tmpdir(), 'ae-feedback-'));
    book.save(dir);
    const again = new FeedbackBook((k) => counted.push(k));
    expect(again.load(dir)).toBe(2);
    expect(again.all.map((m) => m.toSeconds).sort()).toEqual([150, 200]);
    expect(counted).toHaveLength(2);
    again.prune(10_000, 1000);
    expect(again.size).toBe(0);
    writeFileSync(join(dir, 'feedback.state.json'), '{oops');
    expect(() => new FeedbackBook().load(dir)).toThrow(/feedback.state.json: not JSON/);
  });
});

describe('a series taught by a false-positive mark', () => {
  it('does not page on the same fault again, still pages on one twice as large, and trains on the marked span', () => {
    const t = fitted();
    const book = new FeedbackBook();
    t.applyFeedback(book.all, book.version);
    t.score(raw(1, [10, 10, 10]));
    expect(fault(t, 10, 8)).toBeGreaterThan(1);
    expect(t.incidents).toHaveLength(1);
    // The operator says the fault was normal: a silence over its minutes.
    book.merge([mark({ fromSeconds: 9 * 60, toSeconds: 14 * 60 })]);
    t.applyFeedback(book.all, book.version);
    expect(t.incidents).toHaveLength(0); // refits train on it
    expect(t.toleranceAt(t.lastTs)[0]).toBeCloseTo(8, 0);
    expect(fault(t, 30, 8)).toBeLessThanOrEqual(1);
    expect(t.latest?.upper).toBeGreaterThanOrEqual(10 + 1.25 * 7.9);
    expect(fault(t, 50, 16)).toBeGreaterThan(1);
    // A drop was never marked: it still pages.
    expect(fault(t, 70, -8)).toBeGreaterThan(1);
  });

  it('ends the ongoing anomaly it marks, unrecorded, and tolerates what comes within its span', () => {
    const t = fitted();
    const book = new FeedbackBook();
    t.score(raw(1, [10, 10]));
    t.score(raw(3, [18]));
    expect(t.latest?.anomalous).toBe(true);
    book.merge([mark({ fromSeconds: 3 * 60, toSeconds: Infinity, exact: true })]);
    t.applyFeedback(book.all, book.version);
    const next = t.score(raw(4, [20]))!;
    expect(next.ensemble).toBeLessThanOrEqual(1);
    expect(next.anomalous).toBe(false);
    expect(t.incidents).toHaveLength(0);
  });

  it('marked mid-incident (on-call clicks while it goes on), it learns the whole incident, not only what came before the click', () => {
    const t = fitted();
    const book = new FeedbackBook();
    t.score(raw(1, [10, 10]));
    t.score(raw(3, [14, 15]));
    // The click, at minute 4, on a firing episode: an open span (the receiver writes `span=FROM/`).
    book.merge([mark({ fromSeconds: 2 * 60, toSeconds: 4 * 60, open: true })]);
    t.applyFeedback(book.all, book.version);
    t.score(raw(5, [17, 18, 18, 17])); // it grows after the click
    t.score(raw(9, [10, 10, 10, 10, 10]));
    expect(t.toleranceAt(t.lastTs)[0]).toBeCloseTo(8, 0);
    expect(fault(t, 20, 8)).toBeLessThanOrEqual(1);
    expect(fault(t, 40, 16)).toBeGreaterThan(1);
  });

  it('a closed span teaches only itself: an anomaly after its end is not taken for it', () => {
    const t = fitted();
    const book = new FeedbackBook();
    t.score(raw(1, [10, 10]));
    t.score(raw(3, [14, 15]));
    book.merge([mark({ fromSeconds: 2 * 60, toSeconds: 4 * 60 })]);
    t.applyFeedback(book.all, book.version);
    t.score(raw(5, [18, 18]));
    expect(t.toleranceAt(t.lastTs)[0]).toBeLessThan(6);
  });

  it('leaves a real incident whose tail the span holds an incident (an exact span covers incidents that began in it)', () => {
    const t = fitted();
    const book = new FeedbackBook();
    t.score(raw(1, [10, 10]));
    t.score(raw(3, [30, 30, 12]));
    t.score(raw(6, [10, 10, 10, 10]));
    expect(t.incidents).toHaveLength(1);
    book.merge([mark({ fromSeconds: 5 * 60, toSeconds: 6 * 60 })]);
    t.applyFeedback(book.all, book.version);
    expect(t.incidents).toHaveLength(1);
    expect(t.toleranceAt(t.lastTs)[0]).toBeLessThan(5);
  });

  it('a mark about another series changes nothing', () => {
    const t = fitted();
    const book = new FeedbackBook();
    t.score(raw(1, [10, 10]));
    fault(t, 3, 8);
    book.merge([mark({ matchers: [{ name: 'service', value: 'cart', isRegex: false, isEqual: true }], fromSeconds: 0, toSeconds: 3600 })]);
    t.applyFeedback(book.all, book.version);
    expect(t.toleranceAt(t.lastTs)).toEqual([0, 0]);
    expect(fault(t, 20, 8)).toBeGreaterThan(1);
  });

  it('maintenance: never trained on, scored, flagged for the rules, and the band after it is the band before', () => {
    const t = fitted();
    const book = new FeedbackBook();
    book.merge([mark({ kind: 'maintenance', fromSeconds: 10 * 60, toSeconds: 20 * 60 })]);
    t.applyFeedback(book.all, book.version);
    expect(t.score(raw(5, [10]))?.maintenance).toBeUndefined();
    const inside = t.score(raw(12, [30]))!;
    expect(inside.maintenance).toBe(true);
    expect(inside.ensemble).toBeGreaterThan(1); // published as scored
    t.score(raw(13, [10, 10, 10, 10, 10, 10, 10]));
    expect(t.trainingExclusions(25 * 60, 0, 600)).toContainEqual([600, 1200]);
  });

  it('the tolerance survives a save and restore', () => {
    const t = fitted();
    t.score(raw(1, [10, 10]));
    fault(t, 3, 8);
    const book = new FeedbackBook();
    book.merge([mark({ fromSeconds: 2 * 60, toSeconds: 7 * 60 })]);
    t.applyFeedback(book.all, book.version);
    const model = SeriesModel.load(t.model.toState(), modelConfig);
    const back = SeriesTracker.restore({ labels: t.labels, lastTs: t.lastTs, taught: t.taught, incidents: [], incidentPeaks: [] }, model, ctx);
    expect(back.toleranceAt(back.lastTs)).toEqual(t.toleranceAt(t.lastTs));
    expect(back.toleranceAt(back.lastTs)[0]).toBeGreaterThan(7);
    expect(fault(back, 20, 8)).toBeLessThanOrEqual(1);
  });

  it('fades with the half-life: a taught deviation counts half after one half-life', () => {
    const model = new SeriesModel(modelConfig);
    const t = new SeriesTracker(
      { service: 'checkout' },
      model,
      { ...ctx, feedback: { margin: 1.25, lookbackSeconds: 0, halfLifeSeconds: 86400, timeOfDaySeconds: Infinity } },
      0,
    );
    t.taught = [['m', 1000, 8, 2]];
    expect(t.toleranceAt(1000)).toEqual([8, 2]);
    expect(t.toleranceAt(1000 + 86400)).toEqual([4, 1]);
    expect(t.toleranceAt(1000 + 2 * 86400)).toEqual([2, 0.5]);
  });

  it('with a time of day, a taught deviation counts only within that long of the hour it was taught at', () => {
    const model = new SeriesModel(modelConfig);
    const t = new SeriesTracker(
      { service: 'checkout' },
      model,
      { ...ctx, feedback: { margin: 1.25, lookbackSeconds: 0, halfLifeSeconds: Infinity, timeOfDaySeconds: 3600 } },
      0,
    );
    t.taught = [['m', 2 * 3600, 8, 2]]; // taught at 02:00
    expect(t.toleranceAt(86400 + 2.5 * 3600)).toEqual([8, 2]); // 02:30 the next day
    expect(t.toleranceAt(86400 + 1.5 * 3600)).toEqual([8, 2]);
    expect(t.toleranceAt(86400 + 4 * 3600)).toEqual([0, 0]); // 04:00: not the same time of day
    expect(t.toleranceAt(23.5 * 3600)).toEqual([0, 0]); // 23:30, 2.5 h from 02:00
  });

  it('property: within the tolerance the score is at most 1; beyond margin × tolerance the score is untouched', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 50, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true }), (taught, dev) => {
        const t = fitted();
        const plain = fitted();
        t.taught = [['m', 0, taught, taught]];
        const a = t.score(raw(1, [10 + dev]))!;
        const b = plain.score(raw(1, [10 + dev]))!;
        const edge = 1.25 * taught;
        if (Math.abs(a.value - a.expected) <= edge) expect(a.ensemble).toBeLessThanOrEqual(1 + 1e-12);
        else expect(a.ensemble).toBe(b.ensemble);
        // The band drawn is where the score crosses 1.
        if (a.ensemble > 1) expect(a.value > a.upper || a.value < a.lower).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
