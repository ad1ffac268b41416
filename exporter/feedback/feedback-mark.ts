/**
 * Operator feedback as plain data: a span of time, the series it is about (Alertmanager matchers)
 * and what it says (common/vocabulary.ts FEEDBACK_MARKERS). Made from Alertmanager silences whose
 * comment carries a marker; the exporter never reads the receiver.
 */
import { Silence, SilenceMatcher } from '../../common/alertmanager-client';
import { ALERT_ONLY_LABELS, FeedbackKind, feedbackKind } from '../../common/vocabulary';

export interface FeedbackMark {
  /** The silence's id. */
  readonly id: string;
  readonly kind: FeedbackKind;
  readonly matchers: readonly SilenceMatcher[];
  /** The span it is about, seconds: the comment's `span=FROM/TO` when given, else the silence's own. */
  readonly fromSeconds: number;
  readonly toSeconds: number;
  /**
   * The span was given exactly (the comment's `span=`): it covers the incidents that began within
   * it. Otherwise (a silence made on a firing alert, whose start is its creation time) also those
   * that began within the lookback before it.
   */
  readonly exact: boolean;
  /**
   * The span was written while the anomaly went on (`span=FROM/` with no end: the receiver's
   * "not an anomaly" on a firing episode): the anomaly it covers teaches it until it ends.
   */
  readonly open?: boolean;
  readonly createdBy: string;
}

/** Regular expressions longer than this never match (a silence is not a way to stall the exporter). */
const MAX_REGEX_LENGTH = 1000;

/**
 * `span=2026-12-07T02:40:00Z/2026-12-07T02:45:00Z` in a comment: the span the feedback is about;
 * `span=2026-12-07T02:40:00Z/` (no end): from then on, for as long as the anomaly lasts.
 */
const SPAN = /\bspan=(\S+?)\/(\S*)/;

/** The mark a silence carries, or undefined when its comment has no marker or its times are unreadable. */
export function markFromSilence(s: Silence): FeedbackMark | undefined {
  const kind = feedbackKind(s.comment);
  if (!kind) return undefined;
  const startsAt = Date.parse(s.startsAt) / 1000;
  const endsAt = Date.parse(s.endsAt) / 1000;
  if (!Number.isFinite(startsAt) || !Number.isFinite(endsAt)) return undefined;
  let from = startsAt;
  let to = endsAt;
  let exact = false;
  let open = false;
  // Alertmanager moves a silence's start to its creation time, so a span in the past (the
  // receiver's "not an anomaly" on a resolved episode) travels in the comment.
  const span = SPAN.exec(s.comment);
  if (span) {
    const a = Date.parse(span[1]) / 1000;
    open = span[2] === '';
    // An open span ends when it was written (the silence's start): the anomaly it was written
    // during goes on teaching it while it lasts; what comes later is not covered.
    const b = open ? Math.max(startsAt, Date.parse(span[1]) / 1000) : Date.parse(span[2]) / 1000;
    if (Number.isFinite(a) && Number.isFinite(b) && a <= b) {
      from = a;
      // A silence expired early ends the span with it.
      to = Math.min(b, Math.max(endsAt, a));
      exact = true;
    } else open = false;
  }
  if (to < from) return undefined;
  return {
    id: s.id,
    kind,
    matchers: s.matchers.map((m) => ({ ...m })),
    fromSeconds: from,
    toSeconds: to,
    exact,
    ...(open ? { open } : {}),
    createdBy: s.createdBy,
  };
}

/**
 * Whether a mark is about a series with these (published) labels, as Alertmanager matches an
 * alert's labels: every matcher must hold, a missing label is the empty string. The labels the
 * alert rules add (alertname, severity, …) are not the series': a matcher on one of them is not
 * held against the series when the series has no such label.
 */
export function markMatches(mark: FeedbackMark, labels: Readonly<Record<string, string>>): boolean {
  for (const m of mark.matchers) {
    const has = Object.prototype.hasOwnProperty.call(labels, m.name);
    if (!has && (ALERT_ONLY_LABELS as readonly string[]).includes(m.name)) continue;
    if (!matcherHolds(m, has ? labels[m.name] : '')) return false;
  }
  return true;
}

const compiled = new Map<string, RegExp | null>();

function matcherHolds(m: SilenceMatcher, value: string): boolean {
  let hit: boolean;
  if (m.isRegex) {
    const re = regex(m.value);
    if (!re) return false;
    hit = re.test(value);
  } else hit = value === m.value;
  return m.isEqual === false ? !hit : hit;
}

/** Alertmanager's regex matchers are anchored at both ends; an invalid or too long one is null. */
function regex(source: string): RegExp | null {
  let re = compiled.get(source);
  if (re !== undefined) return re;
  try {
    re = source.length > MAX_REGEX_LENGTH ? null : new RegExp(`^(?:${source})$`, 'u');
  } catch {
    re = null;
  }
  if (compiled.size > 10000) compiled.clear();
  compiled.set(source, re);
  return re;
}

/** A mark as people read it (pages, API answers, backtest output): kind, span in RFC 3339, who made it. */
export interface MarkSummary {
  id: string;
  kind: FeedbackMark['kind'];
  from: string;
  to: string | null;
  by: string;
}

export function markSummary(m: FeedbackMark): MarkSummary {
  const iso = (s: number) => (Number.isFinite(s) ? new Date(s * 1000).toISOString() : null);
  return { id: m.id, kind: m.kind, from: iso(m.fromSeconds) ?? '', to: iso(m.toSeconds), by: m.createdBy };
}
