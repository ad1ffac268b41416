/**
 * What happened in one episode, for a person: the alert, the service's signals around it (values
 * and ensemble scores, ±15 minutes, from Prometheus: the receiver never calls the exporter), which
 * signal moved first and by how much, which signals moved together, the incident pattern the
 * exporter named, what the runbook did, whether the service recovered, and what to do next.
 * Deterministic: the same data gives the same analysis, word for word.
 */
import { ENSEMBLE_MODEL, INCIDENT_PATTERNS, isIncidentPattern, METRIC } from '../common/vocabulary';
import { formatSeconds, formatWithUnit } from '../common/units';
import { sampleCorrelation } from 'simple-statistics';
import { EpisodeRow } from './store/receiver-store';

export interface RangeSeries {
  metric: Record<string, string>;
  /** [seconds, value], ascending. */
  values: [number, number][];
}

/** Range queries (Prometheus' /api/v1/query_range). */
export interface RangeSource {
  queryRange(promql: string, startSeconds: number, endSeconds: number, stepSeconds: number): Promise<RangeSeries[]>;
}

export interface SignalStory {
  signal: string;
  /** Start of the stretch of ensemble scores above 1 around the alert (null: none). */
  onset: string | null;
  /** Seconds from the alert's start to the onset (negative: before the alert started). */
  onset_seconds: number | null;
  max_score: number | null;
  /** Median value before the incident, the value furthest from it during, and the newest. */
  baseline: number | null;
  peak: number | null;
  last: number | null;
  /** The newest ensemble score is at most 1. */
  normal_now: boolean | null;
  /** The unit of the values, from the exporter's anomaly_signal_info (null: none given). */
  unit: string | null;
  series: { ts: number[]; value: (number | null)[]; score: (number | null)[] };
}

export interface IncidentAnalysis {
  episode_id: number;
  alert: {
    name: string;
    labels: Record<string, string>;
    summary: string | null;
    started_at: string;
    resolved_at: string | null;
    resolve_kind: string | null;
    /** What the alert rules wrote for on-call (value, expected_band, deviation, since, signals, contributions), as given. */
    explanation: Record<string, string>;
  };
  group: Record<string, string>;
  window: { from: string; to: string; step_seconds: number };
  /** Set when Prometheus could not be read: the rest is what the receiver knows itself. */
  error?: string;
  signals: SignalStory[];
  first_signal: string | null;
  correlated: { signal_a: string; signal_b: string; pearson: number }[];
  pattern: string | null;
  remediation: {
    decision: string | null;
    reason: string | null;
    actions: { runbook: string; target: string; outcome: string; detail: string; started_at: string }[];
  };
  recovered: boolean | null;
  next_steps: string[];
  summary: string;
}

export interface AnalysisInput {
  episode: EpisodeRow;
  decisions: { decision: string; reason: string; atMs: number }[];
  actions: { runbook: string; target: string; outcome: string; detail: string; startedAtMs: number }[];
  /** The annotations of the episode's runbook (next_steps is shown as a suggestion). */
  runbookAnnotations: Record<string, string>;
  nowMs: number;
  windowMs: number;
  /** An anomaly that began at most this long before the alert started (and lasted until it did) is the episode's own (analysis.onset_lookback). */
  lookbackMs: number;
  /** Alert labels that name the service (its group in the exporter). */
  groupBy: readonly string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The annotations the shipped anomaly rules write for on-call (prometheus/rules/anomaly-alerts.yml). */
const EXPLAINED = ['value', 'expected_band', 'deviation', 'since', 'signals', 'contributions'];
const round = (v: number | null, digits = 4) => (v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(digits)));

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A PromQL label matcher set for exact values (quotes and backslashes escaped). */
function selector(labels: Record<string, string>, extra: Record<string, string> = {}): string {
  return `{${Object.entries({ ...labels, ...extra })
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',')}}`;
}

/** The span of one episode that its analysis looks at (seconds), and how far before its start an onset may lie. */
export interface EpisodeSpan {
  startS: number;
  /** The resolve, or now while firing: nothing after it counts. */
  endS: number;
  /** An anomaly that began at most this long before the alert started, and lasted until it did, is this episode's. */
  lookbackS: number;
}

/**
 * The stretch of scores above 1 that belongs to this episode (runs closer than three steps are
 * one): the last run that began within the lookback before the alert's start (plus two steps) and
 * still ran when the alert started, else the first run that began while the episode lasted. A run
 * that ended before the alert started (an earlier fault) or began after the resolve is another
 * incident's, never this one's.
 */
function incidentStretch(ts: number[], score: (number | null)[], span: EpisodeSpan, stepS: number): { start: number; end: number } | undefined {
  const runs: { start: number; end: number }[] = [];
  for (let i = 0; i < ts.length; i++) {
    if ((score[i] ?? 0) <= 1 || ts[i] > span.endS) continue;
    const last = runs[runs.length - 1];
    if (last && ts[i] - last.end <= 3 * stepS) last.end = ts[i];
    else runs.push({ start: ts[i], end: ts[i] });
  }
  const connected = runs.filter((r) => r.start <= span.startS + 2 * stepS && r.start >= span.startS - span.lookbackS && r.end >= span.startS - 3 * stepS);
  return connected[connected.length - 1] ?? runs.find((r) => r.start > span.startS + 2 * stepS);
}

function aligned(series: RangeSeries | undefined, ts: number[]): (number | null)[] {
  const byTs = new Map((series?.values ?? []).map(([t, v]) => [t, v]));
  return ts.map((t) => {
    const v = byTs.get(t);
    return v === undefined || !Number.isFinite(v) ? null : v;
  });
}

export async function analyseIncident(source: RangeSource | undefined, input: AnalysisInput): Promise<IncidentAnalysis> {
  const e = input.episode;
  const group = Object.fromEntries(input.groupBy.filter((k) => e.labels[k] !== undefined).map((k) => [k, e.labels[k]]));
  const toS = Math.floor(Math.min(input.nowMs, e.startsAtMs + input.windowMs) / 1000);
  const stepS = Math.max(1, Math.ceil((toS - Math.floor((e.startsAtMs - input.windowMs) / 1000)) / 300));
  // The grid ends exactly at `toS`: an analysis made seconds into an incident (for a notify step)
  // must see the newest samples, not stop at the last step boundary before them.
  const fromS = toS - Math.ceil((toS - Math.floor((e.startsAtMs - input.windowMs) / 1000)) / stepS) * stepS;
  const startS = e.startsAtMs / 1000;
  const span: EpisodeSpan = { startS, endS: Math.min(toS, e.resolvedAtMs === null ? toS : e.resolvedAtMs / 1000), lookbackS: input.lookbackMs / 1000 };
  const lastDecision = input.decisions[input.decisions.length - 1];
  const analysis: IncidentAnalysis = {
    episode_id: e.id,
    alert: {
      name: e.alertname,
      labels: e.labels,
      summary: e.annotations.summary ?? null,
      started_at: iso(e.startsAtMs),
      resolved_at: e.resolvedAtMs === null ? null : iso(e.resolvedAtMs),
      resolve_kind: e.resolveKind,
      explanation: Object.fromEntries(EXPLAINED.filter((k) => e.annotations[k]).map((k) => [k, e.annotations[k]])),
    },
    group,
    window: { from: iso(fromS * 1000), to: iso(toS * 1000), step_seconds: stepS },
    signals: [],
    first_signal: null,
    correlated: [],
    pattern: null,
    remediation: {
      decision: lastDecision?.decision ?? null,
      reason: lastDecision?.reason ?? null,
      actions: input.actions.map((a) => ({ runbook: a.runbook, target: a.target, outcome: a.outcome, detail: a.detail, started_at: iso(a.startedAtMs) })),
    },
    recovered: e.status === 'resolved' ? (e.resolveKind === 'recovered' ? true : null) : false,
    next_steps: [],
    summary: '',
  };

  if (!source) analysis.error = 'no prometheus.url configured: signals not read';
  else if (Object.keys(group).length === 0) analysis.error = `the alert has none of the labels ${input.groupBy.join(', ')}: signals not read`;
  else {
    try {
      const [values, scores, incident, info] = await Promise.all([
        source.queryRange(`${METRIC.observedValue}${selector(group)}`, fromS, toS, stepS),
        source.queryRange(`${METRIC.score}${selector(group, { model: ENSEMBLE_MODEL })}`, fromS, toS, stepS),
        source.queryRange(`max by (pattern, first_signal) (${METRIC.incidentInfo}${selector(group)})`, fromS, toS, stepS),
        source.queryRange(`max by (signal, unit) (${METRIC.signalInfo})`, fromS, toS, stepS),
      ]);
      const units = new Map(info.filter((s) => s.metric.unit).map((s) => [s.metric.signal, s.metric.unit]));
      const ts: number[] = [];
      for (let t = fromS; t <= toS; t += stepS) ts.push(t);
      const signals = [...new Set(values.map((s) => s.metric.signal).filter((s): s is string => Boolean(s)))].sort();
      analysis.signals = signals.map((signal) =>
        story(
          signal,
          ts,
          values.find((s) => s.metric.signal === signal),
          scores.find((s) => s.metric.signal === signal),
          span,
          stepS,
          units.get(signal) ?? null,
        ),
      );
      analysis.signals.sort(
        (a, b) => (a.onset_seconds ?? Infinity) - (b.onset_seconds ?? Infinity) || (b.max_score ?? 0) - (a.max_score ?? 0) || a.signal.localeCompare(b.signal),
      );
      analysis.first_signal = analysis.signals[0]?.onset !== null ? (analysis.signals[0]?.signal ?? null) : null;
      analysis.correlated = correlatedPairs(analysis.signals, analysis.signals[0]?.onset_seconds ?? null, span, ts);
      // The pattern the exporter named for longest within the episode (the incident's tail, as
      // signals recover one by one, is often named differently for a few samples): from the
      // lookback before its start to its resolve, so an earlier fault or a later surge does not name it.
      let longest = 0;
      for (const s of [...incident].sort((x, y) => (x.values[0]?.[0] ?? 0) - (y.values[0]?.[0] ?? 0))) {
        const within = s.values.filter(([t]) => t >= span.startS - span.lookbackS && t <= span.endS).length;
        if (s.metric.pattern && within > longest) {
          longest = within;
          analysis.pattern = s.metric.pattern;
        }
      }
    } catch (err) {
      analysis.error = `Prometheus: ${(err as Error).message}`;
    }
  }
  if (analysis.recovered === false && analysis.signals.length > 0 && analysis.signals.every((s) => s.normal_now)) analysis.recovered = true;
  analysis.next_steps = nextSteps(analysis, input.runbookAnnotations);
  analysis.summary = summarise(analysis, startS);
  return analysis;
}

function story(
  signal: string,
  ts: number[],
  values: RangeSeries | undefined,
  scores: RangeSeries | undefined,
  span: EpisodeSpan,
  stepS: number,
  unit: string | null,
): SignalStory {
  const alertStartS = span.startS;
  const value = aligned(values, ts);
  const score = aligned(scores, ts);
  const stretch = incidentStretch(ts, score, span, stepS);
  // Before the stretch, leaving out the two steps before it (a rise can begin below a score of 1).
  const before = value.filter((v, i): v is number => v !== null && ts[i] < (stretch?.start ?? alertStartS) - 2 * stepS);
  const baseline = median(before);
  let peak: number | null = null;
  if (stretch) {
    for (let i = 0; i < ts.length; i++) {
      const v = value[i];
      if (v === null || ts[i] < stretch.start || ts[i] > stretch.end) continue;
      if (peak === null || Math.abs(v - (baseline ?? 0)) > Math.abs(peak - (baseline ?? 0))) peak = v;
    }
  }
  // The highest score within the episode's own stretch, not an earlier or later fault's.
  const finiteScores = score.filter((v, i): v is number => v !== null && (!stretch || (ts[i] >= stretch.start && ts[i] <= stretch.end)));
  const newest = score.filter((v): v is number => v !== null);
  const lastScore = newest[newest.length - 1];
  const lastValue = value.filter((v): v is number => v !== null).pop() ?? null;
  return {
    signal,
    onset: stretch ? iso(stretch.start * 1000) : null,
    onset_seconds: stretch ? Math.round(stretch.start - alertStartS) : null,
    max_score: round(finiteScores.length ? Math.max(...finiteScores) : null, 3),
    baseline: round(baseline),
    peak: round(peak),
    last: round(lastValue),
    normal_now: lastScore === undefined ? null : lastScore <= 1,
    unit,
    series: { ts, value: value.map((v) => round(v, 6)), score: score.map((v) => round(v, 4)) },
  };
}

/** Pearson correlation of the signals' values from a minute before the first onset to the episode's resolve; |r| ≥ 0.5, strongest first. */
function correlatedPairs(signals: SignalStory[], firstOnset: number | null, span: EpisodeSpan, ts: number[]): IncidentAnalysis['correlated'] {
  const from = span.startS + (firstOnset ?? 0) - 60;
  const out: IncidentAnalysis['correlated'] = [];
  for (let a = 0; a < signals.length; a++) {
    for (let b = a + 1; b < signals.length; b++) {
      const x: number[] = [];
      const y: number[] = [];
      ts.forEach((t, i) => {
        const va = signals[a].series.value[i];
        const vb = signals[b].series.value[i];
        if (t >= from && t <= span.endS && va !== null && vb !== null) {
          x.push(va);
          y.push(vb);
        }
      });
      if (x.length < 5 || new Set(x).size < 2 || new Set(y).size < 2) continue;
      const r = sampleCorrelation(x, y);
      if (Number.isFinite(r) && Math.abs(r) >= 0.5) {
        const [sa, sb] = [signals[a].signal, signals[b].signal].sort();
        out.push({ signal_a: sa, signal_b: sb, pearson: Number(r.toFixed(2)) });
      }
    }
  }
  return out.sort((p, q) => Math.abs(q.pearson) - Math.abs(p.pearson) || p.signal_a.localeCompare(q.signal_a)).slice(0, 3);
}

function nextSteps(a: IncidentAnalysis, runbookAnnotations: Record<string, string>): string[] {
  const steps: string[] = [];
  if (a.recovered === false) {
    const acted = a.remediation.actions.some((x) => x.outcome === 'succeeded');
    steps.push(
      acted
        ? 'The runbook ran but the service has not recovered: escalate to the service owner.'
        : 'No remediation ran (see the decision): handle it by hand or approve the runbook.',
    );
  }
  if (runbookAnnotations.next_steps) steps.push(runbookAnnotations.next_steps);
  if (a.pattern && isIncidentPattern(a.pattern)) steps.push(INCIDENT_PATTERNS[a.pattern].advice);
  if (runbookAnnotations.runbook_url) steps.push(`Runbook: ${runbookAnnotations.runbook_url}`);
  else if (a.alert.labels && a.alert.name) steps.push('Look at the service on the anomaly-exporter dashboard for the window above.');
  return steps;
}

/** A signal's value with its unit, as the pages write it ("481.9 ms"; "–" when unknown). */
const fmt = (v: number | null, unit: string | null | undefined) => formatWithUnit(v, unit ?? undefined);

function summarise(a: IncidentAnalysis, alertStartS: number): string {
  const who = Object.values(a.group).join('/') || a.alert.labels.service || a.alert.name;
  const parts: string[] = [];
  const moved = a.signals.filter((s) => s.onset !== null);
  if (moved.length) {
    const first = moved[0];
    const when =
      first.onset_seconds === 0
        ? 'as the alert started'
        : first.onset_seconds! < 0
          ? `${formatSeconds(-first.onset_seconds!)} before the alert started`
          : `${formatSeconds(first.onset_seconds!)} after the alert started`;
    parts.push(`${who}: ${first.signal} moved first (score above 1 ${when}; ${fmt(first.baseline, first.unit)} → ${fmt(first.peak, first.unit)}).`);
    for (const s of moved.slice(1))
      parts.push(`${s.signal} followed ${formatSeconds(s.onset_seconds! - first.onset_seconds!)} later (${fmt(s.baseline, s.unit)} → ${fmt(s.peak, s.unit)}).`);
    const calm = a.signals.filter((s) => s.onset === null).map((s) => s.signal);
    if (calm.length) parts.push(`${calm.join(' and ')} stayed normal.`);
  } else if (a.error) {
    parts.push(`${who}: signals unavailable (${a.error}).`);
  } else {
    parts.push(`${who}: no signal scored above 1 in the window.`);
  }
  const x = a.alert.explanation;
  if (x.value && x.deviation) parts.push(`At the alert: ${x.value}, ${x.deviation}${x.expected_band ? ` (expected ${x.expected_band})` : ''}.`);
  if (x.contributions) parts.push(`What moved: ${x.contributions}.`);
  if (a.pattern) parts.push(`Pattern: ${a.pattern}.`);
  if (a.correlated.length) parts.push(`Moved together: ${a.correlated.map((c) => `${c.signal_a} and ${c.signal_b} (r = ${c.pearson})`).join(', ')}.`);
  const act = a.remediation.actions[0];
  if (act)
    parts.push(
      `Runbook ${act.runbook} ran on ${act.target} ${formatSeconds(Date.parse(act.started_at) / 1000 - alertStartS)} after the alert started: ${act.outcome}.`,
    );
  else if (a.remediation.decision) parts.push(`No action: ${a.remediation.decision} (${a.remediation.reason}).`);
  if (a.alert.resolved_at) {
    const after = formatSeconds(Date.parse(a.alert.resolved_at) / 1000 - alertStartS);
    parts.push(
      a.recovered
        ? `Recovered: the alert resolved ${after} after it started.`
        : `The alert resolved ${after} after it started (${a.alert.resolve_kind}): not a verified recovery.`,
    );
  } else parts.push(a.recovered ? 'The signals are back to normal; the alert has not resolved yet.' : 'Still firing.');
  return parts.join(' ');
}
