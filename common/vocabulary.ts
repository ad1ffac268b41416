/**
 * The product's public words as typed constants (DESIGN.md "Metric contract"): the metric names
 * the exporter publishes and the receiver queries, the signal kinds, and the fixed vocabulary of
 * incident patterns with the hint the exporter shows and the advice the receiver gives. Rules,
 * dashboards and templates depend on these strings: change them here or nowhere.
 */

/** Per-series and per-group metrics of the exporter (public API). */
export const METRIC = {
  score: 'anomaly_score',
  observedValue: 'anomaly_observed_value',
  expectedValue: 'anomaly_expected_value',
  expectedLower: 'anomaly_expected_lower',
  expectedUpper: 'anomaly_expected_upper',
  onsetTimestamp: 'anomaly_onset_timestamp_seconds',
  anomalousSignals: 'anomaly_anomalous_signals',
  groupScore: 'anomaly_group_score',
  groupContribution: 'anomaly_group_contribution',
  signalCorrelation: 'anomaly_signal_correlation',
  incidentInfo: 'anomaly_incident_info',
  signalInfo: 'anomaly_signal_info',
  maintenance: 'anomaly_maintenance',
  feedback: 'anomaly_feedback_total',
} as const;

/** The `model` label value of the score the shipped rules alert on. */
export const ENSEMBLE_MODEL = 'ensemble';

/** What a signal measures, for incident patterns. */
export const SIGNAL_KINDS = ['latency', 'traffic', 'errors', 'other'] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

/** `anomaly_incident_info{pattern}`: what each pattern suggests (hint) and what to look at (advice). */
export const INCIDENT_PATTERNS = {
  slow_dependency: {
    hint: 'likely a slow dependency, not load',
    advice: 'Latency rose with traffic normal: look at what the service waits on (database, downstream calls, locks) before scaling it.',
  },
  load_surge: {
    hint: 'likely load: more requests than usual',
    advice: 'Traffic rose: check where the extra requests come from and whether the service scales with them.',
  },
  traffic_drop: {
    hint: 'likely clients cannot reach the service or upstream stopped sending',
    advice: 'Traffic fell: check that clients can reach the service (DNS, load balancer, upstream) and that upstream still sends.',
  },
  error_burst: {
    hint: 'likely failing requests (a bad deploy, a dependency that fails fast)',
    advice: 'Errors rose without latency: look at the latest deploy and at dependencies that fail fast.',
  },
  unclassified: {
    hint: 'no known pattern',
    advice: 'No known pattern: compare the signals on the dashboard and the latest changes to the service.',
  },
} as const;
export type IncidentPattern = keyof typeof INCIDENT_PATTERNS;
export const INCIDENT_PATTERN_NAMES = Object.keys(INCIDENT_PATTERNS) as IncidentPattern[];

export function isIncidentPattern(name: string): name is IncidentPattern {
  return Object.prototype.hasOwnProperty.call(INCIDENT_PATTERNS, name);
}

/**
 * Operator feedback travels as Alertmanager silences whose comment starts with one of these
 * markers (case-insensitive): the receiver's "not an anomaly" action writes the first, and an
 * operator can write either in Alertmanager's UI or with `amtool silence add --comment`.
 * - false_positive: the silenced span was normal for the matching series; they learn it.
 * - maintenance: planned work; the span never trains the models and does not alert.
 */
export const FEEDBACK_MARKERS = {
  false_positive: 'anomaly: false-positive',
  maintenance: 'anomaly: maintenance',
} as const;
export type FeedbackKind = keyof typeof FEEDBACK_MARKERS;
export const FEEDBACK_KINDS = Object.keys(FEEDBACK_MARKERS) as FeedbackKind[];

/** The feedback a silence comment carries, if it starts with a marker. */
export function feedbackKind(comment: string): FeedbackKind | undefined {
  const c = comment.trimStart().toLowerCase();
  for (const kind of FEEDBACK_KINDS) {
    const marker = FEEDBACK_MARKERS[kind];
    // The marker must end there: "anomaly: maintenance-ish" is not one.
    if (c.startsWith(marker) && !/[a-z0-9_-]/.test(c.charAt(marker.length))) return kind;
  }
  return undefined;
}

/** Labels the shipped anomaly alerts add to a series' labels (alertname and the rules' own). */
export const ALERT_ONLY_LABELS = ['alertname', 'severity', 'category', 'family'] as const;
