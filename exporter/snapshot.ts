/**
 * The immutable result of one cycle. `/metrics` renders only the latest snapshot, so a series
 * that vanished from the source vanishes from `/metrics` (no stale series).
 */
export interface SeriesResult {
  readonly signal: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Time of the newest scored sample, in seconds. */
  readonly timestampSeconds: number;
  readonly value: number;
  /** Per model name (zscore, mad, isolation_forest), on the common scale. */
  readonly scores: Readonly<Record<string, number>>;
  readonly ensemble: number;
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  /** Start of the current anomalous stretch (ensemble > 1), if in one. */
  readonly onsetSeconds?: number;
}

export interface GroupResult {
  /** The group's labels (config `reader.group_by`), e.g. {service: "checkout"}. */
  readonly labels: Readonly<Record<string, string>>;
  /** Signals of the group whose ensemble score is above 1 now. */
  readonly anomalousSignals: number;
}

export interface Snapshot {
  readonly builtAtSeconds: number;
  readonly series: readonly SeriesResult[];
  readonly groups: readonly GroupResult[];
}

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({ builtAtSeconds: 0, series: Object.freeze([]), groups: Object.freeze([]) });

/** Counts, per group, the signals anomalous now. Series without every group label belong to no group. */
export function groupResults(series: readonly SeriesResult[], groupBy: readonly string[]): GroupResult[] {
  if (groupBy.length === 0) return [];
  const groups = new Map<string, { labels: Record<string, string>; anomalous: Set<string> }>();
  for (const s of series) {
    if (!groupBy.every((l) => s.labels[l] !== undefined)) continue;
    const labels: Record<string, string> = {};
    for (const l of groupBy) labels[l] = s.labels[l];
    const key = groupBy.map((l) => labels[l]).join('\u0000');
    const g = groups.get(key) ?? { labels, anomalous: new Set<string>() };
    if (s.ensemble > 1) g.anomalous.add(s.signal);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, anomalousSignals: g.anomalous.size }));
}
