/**
 * Root-cause hints from rules you can read: which signal of a group moved first, in which
 * direction, and which others followed. No learning, no guesswork; every pattern is below.
 */
import { INCIDENT_PATTERNS, IncidentPattern, SignalKind } from '../../common/vocabulary';

export type { SignalKind } from '../../common/vocabulary';

export interface SignalState {
  signal: string;
  kind: SignalKind;
  anomalous: boolean;
  /** Start of the anomalous stretch (seconds), when anomalous. */
  onsetSeconds?: number;
  /** Whether the value is above (up) or below (down) its expected value. */
  direction: 'up' | 'down';
}

export interface IncidentHint {
  pattern: IncidentPattern;
  firstSignal: string;
  /** One line for people, e.g. "latency rose 40 s before errors; traffic normal: likely a slow dependency, not load". */
  hint: string;
}

/** Classifies a group's state; undefined when no signal is anomalous. */
export function classifyIncident(signals: SignalState[]): IncidentHint | undefined {
  const anomalous = signals.filter((s) => s.anomalous).sort((a, b) => (a.onsetSeconds ?? 0) - (b.onsetSeconds ?? 0) || a.signal.localeCompare(b.signal));
  if (anomalous.length === 0) return undefined;
  const first = anomalous[0];
  const of = (kind: SignalKind) => anomalous.find((s) => s.kind === kind);
  const traffic = of('traffic');
  const latency = of('latency');
  const errors = of('errors');
  const hasTraffic = signals.some((s) => s.kind === 'traffic');

  let pattern: IncidentPattern = 'unclassified';
  if (traffic?.direction === 'down') pattern = 'traffic_drop';
  else if (traffic?.direction === 'up') pattern = 'load_surge';
  else if (latency?.direction === 'up') pattern = 'slow_dependency';
  else if (errors?.direction === 'up' && !latency) pattern = 'error_burst';

  const verb = (s: SignalState) => `${s.signal} ${s.direction === 'up' ? 'rose' : 'fell'}`;
  let story = verb(first);
  const second = anomalous[1];
  if (second) {
    const lead = Math.round((second.onsetSeconds ?? 0) - (first.onsetSeconds ?? 0));
    story += lead > 0 ? ` ${lead} s before ${second.signal}` : ` together with ${second.signal}`;
    if (anomalous.length > 2)
      story += ` (then ${anomalous
        .slice(2)
        .map((s) => s.signal)
        .join(', ')})`;
  }
  const trafficNote = hasTraffic && !traffic && pattern !== 'unclassified' ? '; traffic normal' : '';
  return { pattern, firstSignal: first.signal, hint: `${story}${trafficNote}: ${INCIDENT_PATTERNS[pattern].hint}` };
}

/** The kind of a signal: as configured, else from its name when that is a known kind. */
export function signalKind(name: string, configured?: SignalKind): SignalKind {
  if (configured) return configured;
  return name === 'latency' || name === 'traffic' || name === 'errors' ? name : 'other';
}
