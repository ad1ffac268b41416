/**
 * One series across cycles: its model, the newest sample already scored, the onset/hold state
 * machine, the recent samples for correlations and the scored history for the web page. Scoring
 * turns new samples into the series' published result.
 */
import { exposableLabelName } from '../../common/label-names';
import { SeriesModel, SeriesModelConfig } from '../../models';
import { RecentSamples } from '../group/correlation';
import { RawSeries } from '../read/reader';
import { FeedbackMark, markMatches } from '../feedback/feedback-mark';
import { SeriesResult } from '../publish/snapshot';
import { hoursOfWeek } from './local-time';
import { SeriesHistory } from './series-history';

/** Labels the exporter adds; a source label of the same name is kept as exported_<name>. */
const RESERVED_LABELS = ['signal', 'model'];

/** What a tracker needs to know of its signal. */
export interface TrackerContext {
  signal: string;
  modelConfig: SeriesModelConfig;
  /** The time zone of the seasonal profile's hours, when it is enabled. */
  seasonalZone?: string;
  /** Samples a series stays anomalous after its last score above 1 (ensemble.hold_samples). */
  holdSamples: number;
  /** Scored samples kept for the web page (server.history_samples). */
  historySamples: number;
  /** How operator feedback is taken in (alertmanager section); none without it. */
  feedback?: FeedbackOptions;
}

export interface FeedbackOptions {
  /**
   * A false-positive mark's deviation times this is normal for the series from then on (its score
   * stays at most 1 up to there): the same deviation does not page again, a clearly larger one does.
   */
  margin: number;
  /** An incident that ended this long before a false-positive span began is the one it is about. */
  lookbackSeconds: number;
  /** A taught deviation counts half after this long, a quarter after twice as long (Infinity: for good). */
  halfLifeSeconds: number;
  /** A taught deviation counts only within this long of its time of day (Infinity: at any time). */
  timeOfDaySeconds: number;
}

/** Samples at most 1 an anomaly that goes on teaching its mark may have in a row (see SeriesTracker.teaching). */
const TEACHING_GAP = 2;

/** Marks a series remembers (the newest first are kept). */
const MAX_TAUGHT = 64;

/** What a restore brings back (see state/model-state.ts). */
export interface TrackerSaved {
  labels: Record<string, string>;
  lastTs: number;
  onset?: number;
  sinceFlag?: number;
  incidents?: [number, number][];
  /** Start of the ongoing incident's rise (see SeriesTracker.riseStart). */
  riseStart?: number;
  /** Per past incident, its largest deviations above and below the expected value, and its onset. */
  incidentPeaks?: number[][];
  /** What operator feedback taught: per false-positive mark, when and how far above and below the expected value was normal. */
  taught?: Taught[];
}

/** A false-positive mark as a series learned it: its id, its span's start, the largest deviations above and below in it. */
export type Taught = [id: string, at: number, up: number, down: number];

/** Past incidents a tracker remembers for its refits (the oldest go first). */
const MAX_INCIDENTS = 64;

/**
 * An incident's shoulders, the samples scoring above this just before its first score above 1
 * and just after its hold ends, are part of it: refits leave them out too. A sample trained on
 * at score s moves the z-score's edge (1.5 × the window's largest deviation) to 1.5 s times the old
 * one, so without this every resolved incident widened the band by up to half: the demo's error
 * band edge went 2.18 % → 2.62 % → 3.0 % over three faults. A shoulder is at most hold_samples
 * samples on either side: a series that sits just under its band for days (an unflagged slow
 * change) is not left out of training for days (that cost NAB 2.6 points).
 */
const SHOULDER_SCORE = 0.5;

export class SeriesTracker {
  /** The labels published with its results (made once: every cycle's result shares them). */
  readonly publicLabels: Readonly<Record<string, string>>;
  /** Newest sample already scored (or used in the fit), seconds. */
  lastTs = -Infinity;
  /** End of the last cycle whose answer held this series. */
  lastSeen: number;
  latest?: SeriesResult;
  onset?: number;
  /** Samples scored since the last one with an ensemble score above 1 (Infinity: none yet). */
  sinceFlag = Infinity;
  /**
   * Past anomalies, [onset, end] in seconds, that no refit took as the new normal: refits leave
   * their samples out of training while they are in the fit window (see training-window.ts).
   */
  incidents: [number, number][] = [];
  /** Per incident (same order): its largest deviations from the expected value above and below, and its onset (its first score above 1). */
  private incidentPeaks: [number, number, number][] = [];
  /** The ongoing incident's largest deviations above and below the expected value so far. */
  private peakUp = 0;
  private peakDown = 0;
  /**
   * What false-positive marks taught: deviations from the expected value, above and below, that
   * were normal, fading with the half-life. Up to `margin` times them the score stays at most 1.
   */
  taught: Taught[] = [];
  /**
   * An anomaly a false-positive mark ended while it went on (on-call clicked mid-incident): it
   * goes on teaching that mark while it lasts (scores above 1, gaps of at most TEACHING_GAP
   * samples), for at most the lookback after the mark's span: a later anomaly, after a pause, is not
   * taken for it.
   */
  private teaching?: { mark: FeedbackMark; quietLeft: number };
  /** The feedback marks about this series, as of the book's `feedbackVersion`. */
  private marks: readonly FeedbackMark[] = [];
  private feedbackVersion = -1;
  /** The ongoing anomaly was taken as the new normal by a refit (see trainingExclusions). */
  private accepted = false;
  /** A refit took the ongoing anomaly in when only its first sample had been scored. */
  private acceptedOnFirstSample = false;
  /** The band in force when the ongoing anomaly began, [lower, upper]. */
  private onsetBand?: [number, number];
  /** Samples since the last score above 1 whose value is back within onsetBand. */
  private backSinceFlag = 0;
  /** Start of the ongoing incident's rise: the first of the samples just before its onset that scored above SHOULDER_SCORE. */
  private riseStart?: number;
  /** Times of the newest samples scoring above SHOULDER_SCORE in a row while normal (a ring of hold_samples), and how many. */
  private readonly rise: Float64Array;
  private riseCount = 0;
  /** Samples the newest past incident may still grow by while they score above SHOULDER_SCORE. */
  private tailLeft = 0;
  /** Samples within the correlation window, for per-group correlations. */
  readonly recent: RecentSamples = { ts: [], values: [] };
  /** The last scored samples with their band and score, for the web page. */
  readonly history: SeriesHistory;

  constructor(
    readonly labels: Record<string, string>,
    private ownModel: SeriesModel,
    private ctx: TrackerContext,
    seenAt: number,
  ) {
    this.publicLabels = publishedLabels(labels, ctx.signal);
    this.history = new SeriesHistory(ctx.historySamples);
    this.rise = new Float64Array(Math.max(1, ctx.holdSamples));
    this.lastSeen = seenAt;
  }

  get model(): SeriesModel {
    return this.ownModel;
  }

  /** What a restore needs to go on from where this tracker is (the model aside): shared, not copied. */
  saved(): TrackerSaved {
    return {
      labels: this.labels,
      lastTs: this.lastTs,
      onset: this.onset,
      sinceFlag: Number.isFinite(this.sinceFlag) ? this.sinceFlag : undefined,
      incidents: this.incidents.length ? this.incidents : undefined,
      riseStart: this.riseStart,
      incidentPeaks: this.incidents.length ? [...this.pastPeaks] : undefined,
      taught: this.taught.length ? this.taught : undefined,
    };
  }

  /**
   * This series under a reloaded config of its signal, with `model` (this one's, moved over, see
   * SeriesModel.movedTo). With the same hold and history sizes it goes on as it is, with its
   * scored history, recent samples and ongoing incident; otherwise it goes on as from saved state.
   */
  movedTo(model: SeriesModel, ctx: TrackerContext): SeriesTracker {
    if (ctx.signal !== this.ctx.signal || ctx.holdSamples !== this.ctx.holdSamples || ctx.historySamples !== this.ctx.historySamples)
      return SeriesTracker.restore(this.saved(), model, ctx);
    this.ownModel = model;
    this.ctx = ctx;
    // The feedback options may have changed: the marks are taken in again at the next cycle.
    this.feedbackVersion = -1;
    return this;
  }

  /** A tracker that goes on from saved state, without a new warm-up. */
  static restore(saved: TrackerSaved, model: SeriesModel, ctx: TrackerContext): SeriesTracker {
    const t = new SeriesTracker(saved.labels, model, ctx, saved.lastTs);
    t.lastTs = saved.lastTs;
    t.onset = saved.onset;
    t.sinceFlag = saved.sinceFlag ?? Infinity;
    t.incidents = Array.isArray(saved.incidents) ? saved.incidents.filter((x) => Array.isArray(x) && x.length === 2 && x.every(Number.isFinite)) : [];
    if (t.onset !== undefined && Number.isFinite(saved.riseStart) && saved.riseStart! <= t.onset) t.riseStart = saved.riseStart;
    const peaks = Array.isArray(saved.incidentPeaks) && saved.incidentPeaks.length === t.incidents.length ? saved.incidentPeaks : undefined;
    t.incidentPeaks = t.incidents.map(([from], i) => {
      const p = peaks?.[i];
      const ok = Array.isArray(p) && p.length === 3 && p.every((x) => Number.isFinite(x)) && p[0] >= 0 && p[1] >= 0;
      return ok ? [p[0], p[1], p[2]] : [0, 0, from];
    });
    if (Array.isArray(saved.taught))
      t.taught = saved.taught
        .filter((x) => Array.isArray(x) && x.length === 4 && typeof x[0] === 'string' && x.slice(1).every((v) => Number.isFinite(v)) && x[2] >= 0 && x[3] >= 0)
        .slice(-MAX_TAUGHT);
    return t;
  }

  /** Scores the finite samples newer than lastTs; returns the newest result (the previous one if none is new). */
  score(r: RawSeries): SeriesResult | undefined {
    const fresh: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < r.values.length; i++) {
      if (r.timestamps[i] > this.lastTs && Number.isFinite(r.values[i])) {
        fresh.push(r.values[i]);
        times.push(r.timestamps[i]);
      }
    }
    if (fresh.length === 0) return this.latest;
    const zone = this.ctx.seasonalZone;
    // Planned work (a maintenance mark) is not the new normal: the online models do not calibrate on it.
    const learn = !this.marks.some((m) => m.kind === 'maintenance' && times[times.length - 1] >= m.fromSeconds && times[0] <= m.toSeconds);
    const s = this.model.score(Float64Array.from(fresh), zone === undefined ? undefined : hoursOfWeek(times, zone), learn);
    const margin = this.ctx.feedback?.margin ?? 1;
    let tolerance = this.toleranceAt(times[0]);
    // A series is anomalous from a score above 1 until hold_samples samples pass without one:
    // the ensemble flags changes, and a change is an incident for a while, not for one sample.
    for (let i = 0; i < s.rows; i++) {
      const deviation = fresh[i] - s.expected[i];
      const span = this.marks.length ? (this.falsePositiveSpan(times[i]) ?? this.stillTeaching(s.ensemble[i], times[i])) : undefined;
      if (span) {
        this.tolerate(span, deviation);
        tolerance = this.toleranceAt(times[i]);
      }
      applyTolerance(s, i, deviation, tolerance, margin);
      this.history.push(times[i], fresh[i], s.expected[i], s.lower[i], s.upper[i], s.ensemble[i]);
      if (this.onset !== undefined && Number.isFinite(deviation)) {
        if (deviation > this.peakUp) this.peakUp = deviation;
        if (-deviation > this.peakDown) this.peakDown = -deviation;
      }
      const shoulder = s.ensemble[i] > SHOULDER_SCORE;
      if (this.onset === undefined) {
        if (this.tailLeft > 0 && shoulder && s.ensemble[i] <= 1) {
          this.tailLeft--;
          this.incidents[this.incidents.length - 1][1] = times[i];
        } else this.tailLeft = 0;
      }
      if (s.ensemble[i] > 1) {
        this.sinceFlag = 0;
        this.backSinceFlag = 0;
        if (this.onset === undefined) {
          this.onset = times[i];
          this.onsetBand = [s.lower[i], s.upper[i]];
          this.peakUp = Math.max(0, deviation || 0);
          this.peakDown = Math.max(0, -deviation || 0);
          this.riseStart = this.riseCount > 0 ? this.rise[(this.riseCount - Math.min(this.riseCount, this.rise.length)) % this.rise.length] : undefined;
          this.riseCount = 0;
        }
        continue;
      }
      if (this.onset === undefined) {
        if (shoulder) this.rise[this.riseCount++ % this.rise.length] = times[i];
        else this.riseCount = 0;
      }
      const band = this.onsetBand;
      if (band && fresh[i] >= band[0] && fresh[i] <= band[1]) this.backSinceFlag++;
      if (++this.sinceFlag >= this.ctx.holdSamples) {
        if (this.onset !== undefined && (!this.accepted || this.wasSpike())) {
          this.incidents.push([Math.min(this.onset, this.riseStart ?? this.onset), times[i]]);
          this.incidentPeaks.push([this.peakUp, this.peakDown, this.onset]);
          this.tailLeft = this.rise.length;
        }
        if (this.incidents.length > MAX_INCIDENTS) {
          this.incidents.shift();
          this.incidentPeaks.shift();
        }
        this.riseStart = undefined;
        this.onset = undefined;
        this.onsetBand = undefined;
        this.accepted = false;
        this.acceptedOnFirstSample = false;
      }
    }
    const last = s.rows - 1;
    const scores: Record<string, number> = {};
    for (const [name, arr] of Object.entries(s.models)) scores[name] = arr[last];
    this.lastTs = times[last];
    this.latest = Object.freeze({
      signal: this.ctx.signal,
      labels: this.publicLabels,
      timestampSeconds: times[last],
      value: fresh[last],
      scores: Object.freeze(scores),
      ensemble: s.ensemble[last],
      expected: s.expected[last],
      lower: s.lower[last],
      upper: s.upper[last],
      anomalous: this.onset !== undefined,
      onsetSeconds: this.onset,
      maintenance: this.marks.some((m) => m.kind === 'maintenance' && times[last] >= m.fromSeconds && times[last] <= m.toSeconds) || undefined,
    });
    return this.latest;
  }

  /**
   * The spans a refit at `end` leaves out of training: past incidents ending after `horizon`, and
   * the ongoing one while younger than `acceptAfterSeconds`. An ongoing one that old is the new
   * normal: it is trained on from now on, and not left out when it ends.
   */
  trainingExclusions(end: number, horizon: number, acceptAfterSeconds: number): [number, number][] {
    this.keepIncidents(([, to]) => to >= horizon);
    // Planned work never trains the models (maintenance marks), whatever it scored.
    const planned: [number, number][] = [];
    for (const m of this.marks) if (m.kind === 'maintenance' && m.toSeconds >= horizon) planned.push([m.fromSeconds, m.toSeconds]);
    const past = planned.length ? [...this.incidents, ...planned] : this.incidents;
    if (this.onset === undefined || this.accepted) return past;
    if (end - this.onset >= acceptAfterSeconds) {
      this.accepted = true;
      this.acceptedOnFirstSample = this.lastTs <= this.onset;
      return past;
    }
    return [...past, [Math.min(this.onset, this.riseStart ?? this.onset), Infinity]];
  }

  /** Keeps the past incidents (and their peaks) for which `keep` holds. */
  private keepIncidents(keep: (span: [number, number], peaks: [number, number, number]) => boolean): void {
    const incidents: [number, number][] = [];
    const peaks: [number, number, number][] = [];
    for (let i = 0; i < this.incidents.length; i++) {
      const p = this.incidentPeaks[i] ?? [0, 0, this.incidents[i][0]];
      if (!keep(this.incidents[i], p)) continue;
      incidents.push(this.incidents[i]);
      peaks.push(p);
    }
    this.incidents = incidents;
    this.incidentPeaks = peaks;
  }

  /** Per past incident, its largest deviations above and below the expected value and its onset (for saving). */
  get pastPeaks(): readonly [number, number, number][] {
    return this.incidentPeaks;
  }

  /**
   * Takes in the book's marks about this series when the book changed since the last call. A
   * false-positive mark says its span was normal: the incidents that began within it (or within
   * the lookback before it, unless the span was exact), the ongoing one too, are no longer
   * incidents, so refits train on them, and their largest deviations, with every scored sample in
   * the span, become the series' tolerance. An incident that began before (a real one whose tail
   * the span holds) is left as it is: only the span's own samples are tolerated.
   */
  applyFeedback(marks: readonly FeedbackMark[], version: number): void {
    if (version === this.feedbackVersion) return;
    this.feedbackVersion = version;
    this.marks = marks.filter((m) => markMatches(m, this.publicLabels));
    const lookback = this.ctx.feedback?.lookbackSeconds ?? 0;
    for (const m of this.marks) {
      if (m.kind !== 'false_positive') continue;
      const from = m.fromSeconds - (m.exact ? 0 : lookback);
      this.keepIncidents((_, [up, down, onset]) => {
        const covered = onset >= from && onset <= m.toSeconds;
        if (covered) {
          this.tolerate(m, up);
          this.tolerate(m, -down);
        }
        return !covered;
      });
      this.history.forEach((t, value, expected) => {
        if (t >= m.fromSeconds && t <= m.toSeconds) this.tolerate(m, value - expected);
      });
      if (this.onset !== undefined && this.onset >= from && this.onset <= m.toSeconds) {
        // The ongoing anomaly is what the operator said is normal: it ends here, unrecorded, so
        // the next refit trains on it.
        this.tolerate(m, this.peakUp);
        this.tolerate(m, -this.peakDown);
        // A span still open when it was written (on-call marked the anomaly while it went on)
        // teaches the anomaly until it ends; an exact closed span teaches only itself.
        if (!m.exact || m.open) this.teaching = { mark: m, quietLeft: TEACHING_GAP + 1 };
        this.onset = undefined;
        this.onsetBand = undefined;
        this.riseStart = undefined;
        this.accepted = false;
        this.acceptedOnFirstSample = false;
        this.sinceFlag = Infinity;
      }
    }
  }

  /** The mark an ended anomaly still teaches while it goes on (see `teaching`), given the sample's score before tolerance. */
  private stillTeaching(score: number, time: number): FeedbackMark | undefined {
    const t = this.teaching;
    if (!t) return undefined;
    if (time > t.mark.toSeconds + (this.ctx.feedback?.lookbackSeconds ?? 0)) this.teaching = undefined;
    else if (score > 1) t.quietLeft = TEACHING_GAP + 1;
    else if (--t.quietLeft <= 0) this.teaching = undefined;
    return this.teaching?.mark;
  }

  private falsePositiveSpan(t: number): FeedbackMark | undefined {
    for (const m of this.marks) if (m.kind === 'false_positive' && t >= m.fromSeconds && t <= m.toSeconds) return m;
    return undefined;
  }

  /** Mark `m` says a deviation from the expected value (positive above) is normal for this series. */
  private tolerate(m: FeedbackMark, deviation: number): void {
    if (!Number.isFinite(deviation) || deviation === 0) return;
    let entry = this.taught.find((x) => x[0] === m.id);
    if (!entry) {
      entry = [m.id, m.fromSeconds, 0, 0];
      this.taught.push(entry);
      if (this.taught.length > MAX_TAUGHT) this.taught.shift();
    }
    if (deviation > entry[2]) entry[2] = deviation;
    if (-deviation > entry[3]) entry[3] = -deviation;
  }

  /** The deviations above and below the expected value that feedback makes normal at time t (each mark's, faded by its age). */
  toleranceAt(t: number): [number, number] {
    let up = 0;
    let down = 0;
    const halfLife = this.ctx.feedback?.halfLifeSeconds ?? Infinity;
    const within = this.ctx.feedback?.timeOfDaySeconds ?? Infinity;
    for (const [, at, u, d] of this.taught) {
      if (Number.isFinite(within)) {
        const apart = (((t - at) % 86400) + 86400) % 86400;
        if (Math.min(apart, 86400 - apart) > within) continue;
      }
      const weight = Number.isFinite(halfLife) ? Math.pow(0.5, Math.max(0, t - at) / halfLife) : 1;
      if (u * weight > up) up = u * weight;
      if (d * weight > down) down = d * weight;
    }
    return [up, down];
  }

  /**
   * An anomaly that a refit took in on its first sample (a series sampled less often than
   * accept_after: one sample cannot tell a spike from a lasting change) and that then went back
   * within the band it began outside of (most of the samples since its last score above 1): a
   * spike after all. It is then left out of later refits like any other incident, rather than
   * widening the band for a whole fit window. bench:detect: Cloud Monitoring's hourly crash rates.
   */
  private wasSpike(): boolean {
    return this.acceptedOnFirstSample && 2 * this.backSinceFlag >= this.sinceFlag;
  }

  /** Start of the ongoing incident's rise, for saving (see TrackerSaved). */
  get incidentRise(): number | undefined {
    return this.onset === undefined ? undefined : this.riseStart;
  }

  /** Appends the finite samples newer than the last kept one and drops those before `from`. */
  keepRecent(r: RawSeries, from: number): void {
    const recent = this.recent;
    const last = recent.ts.length ? recent.ts[recent.ts.length - 1] : -Infinity;
    for (let i = 0; i < r.timestamps.length; i++) {
      if (r.timestamps[i] > last && r.timestamps[i] >= from && Number.isFinite(r.values[i])) {
        recent.ts.push(r.timestamps[i]);
        recent.values.push(r.values[i]);
      }
    }
    let drop = 0;
    while (drop < recent.ts.length && recent.ts[drop] < from) drop++;
    if (drop > 0) {
      recent.ts.splice(0, drop);
      recent.values.splice(0, drop);
    }
  }
}

/**
 * Up to `margin` times the tolerated deviation on its side, the score is at most the deviation's
 * share of that, and the band drawn reaches there: the band stays where the score crosses 1.
 */
function applyTolerance(
  s: { ensemble: Float64Array; expected: Float64Array; lower: Float64Array; upper: Float64Array },
  i: number,
  deviation: number,
  [up, down]: [number, number],
  margin: number,
): void {
  if ((up === 0 && down === 0) || !Number.isFinite(deviation)) return;
  if (up > 0) {
    const edge = margin * up;
    if (deviation > 0 && deviation <= edge) s.ensemble[i] = Math.min(s.ensemble[i], deviation / edge);
    if (Number.isFinite(s.upper[i])) s.upper[i] = Math.max(s.upper[i], s.expected[i] + edge);
  }
  if (down > 0) {
    const edge = margin * down;
    if (deviation < 0 && -deviation <= edge) s.ensemble[i] = Math.min(s.ensemble[i], -deviation / edge);
    // A band kept at or above 0 (a series never negative) stays there.
    if (Number.isFinite(s.lower[i])) s.lower[i] = Math.min(s.lower[i], s.lower[i] >= 0 ? Math.max(0, s.expected[i] - edge) : s.expected[i] - edge);
  }
}

/**
 * The labels a series is published with: the source's, each name made valid for the exposition
 * format (exposableLabelName; an empty name is dropped, and of two names that become the same the
 * first in the source's order is kept), `signal` and `model` kept as exported_<name>, plus signal.
 */
function publishedLabels(source: Record<string, string>, signal: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    const name = exposableLabelName(k);
    if (name === '') continue;
    const published = RESERVED_LABELS.includes(name) ? `exported_${name}` : name;
    if (!(published in out)) out[published] = v;
  }
  out.signal = signal;
  return Object.freeze(out);
}
