import { correlate, CorrelationMethod, RecentSamples } from './correlation';
import { classifyIncident, SignalKind } from './incident-rules';
import { CorrelationResult, GroupResult, GroupSignal, SeriesResult } from '../publish/snapshot';
import { RawSeries } from '../read/reader';

export interface PublishedSeries {
  result: SeriesResult;
  recent: RecentSamples;
  /** The series' kept fit window (views), when the signal keeps one: seeds a new group's forest. */
  history?: () => RawSeries | undefined;
}

export interface GroupAnalysisOptions {
  groupBy: readonly string[];
  methods: readonly CorrelationMethod[];
  minSamples: number;
  kinds: Readonly<Record<string, SignalKind>>;
}

/**
 * Per group (the `group_by` labels): how many signals are anomalous, their order of onset,
 * pairwise correlations over the recent window, and the incident pattern. A series lacking a
 * group label belongs to no group; a signal with several series in one group (e.g. one per
 * instance) is counted but left out of correlations, which would be ambiguous.
 */
export function analyseGroups(published: readonly PublishedSeries[], o: GroupAnalysisOptions): GroupResult[] {
  return groupPublished(published, o.groupBy).map(({ labels, members }) => analyseGroup(labels, members, o));
}

export interface PublishedGroup {
  key: string;
  labels: Record<string, string>;
  members: PublishedSeries[];
}

/** The published series by group (the `group_by` labels); series lacking one belong to none. */
export function groupPublished(published: readonly PublishedSeries[], groupBy: readonly string[]): PublishedGroup[] {
  if (groupBy.length === 0) return [];
  const groups = new Map<string, PublishedGroup>();
  for (const p of published) {
    const l = p.result.labels;
    if (!groupBy.every((g) => l[g] !== undefined)) continue;
    const labels: Record<string, string> = {};
    for (const g of groupBy) labels[g] = l[g];
    const key = groupBy.map((g) => labels[g]).join('\u0000');
    const entry = groups.get(key) ?? { key, labels, members: [] };
    entry.members.push(p);
    groups.set(key, entry);
  }
  return [...groups.values()];
}

/** Signals with exactly one series in the group, by name: the group's unambiguous channels. */
export function singleSeriesSignals(members: readonly PublishedSeries[]): [string, PublishedSeries][] {
  const count = new Map<string, number>();
  for (const m of members) count.set(m.result.signal, (count.get(m.result.signal) ?? 0) + 1);
  return members
    .filter((m) => count.get(m.result.signal) === 1)
    .map((m): [string, PublishedSeries] => [m.result.signal, m])
    .sort(([a], [b]) => a.localeCompare(b));
}

export function analyseGroup(labels: Record<string, string>, members: PublishedSeries[], o: GroupAnalysisOptions): GroupResult {
  const bySignal = new Map<string, PublishedSeries[]>();
  for (const m of members) bySignal.set(m.result.signal, [...(bySignal.get(m.result.signal) ?? []), m]);
  const signals: GroupSignal[] = [];
  for (const [signal, list] of bySignal) {
    // The most anomalous series stands for its signal.
    const top = list.reduce((a, b) => (b.result.ensemble > a.result.ensemble ? b : a));
    const r = top.result;
    signals.push({ signal, anomalous: r.anomalous, onsetSeconds: r.onsetSeconds, score: r.ensemble, value: r.value, expected: r.expected });
  }
  signals.sort((a, b) => Number(b.anomalous) - Number(a.anomalous) || (a.onsetSeconds ?? 0) - (b.onsetSeconds ?? 0) || a.signal.localeCompare(b.signal));

  const single = singleSeriesSignals(members);
  const correlations: CorrelationResult[] = [];
  for (let i = 0; i < single.length; i++) {
    for (let j = i + 1; j < single.length; j++) {
      for (const method of o.methods) {
        const value = correlate(single[i][1].recent, single[j][1].recent, method, o.minSamples);
        if (value !== undefined) correlations.push({ signalA: single[i][0], signalB: single[j][0], method, value });
      }
    }
  }

  const incident = classifyIncident(
    signals.map((s) => ({
      signal: s.signal,
      kind: o.kinds[s.signal] ?? 'other',
      anomalous: s.anomalous,
      onsetSeconds: s.onsetSeconds,
      direction: Number.isFinite(s.expected) && s.value < s.expected ? 'down' : 'up',
    })),
  );
  return { labels, anomalousSignals: signals.filter((s) => s.anomalous).length, signals, correlations, incident };
}
