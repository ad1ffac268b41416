import { Snapshot } from './snapshot';

/** Pairs shown per incident: the strongest correlations, at least this strong. */
const TOP_PAIRS = 3;
const MIN_ABS_CORRELATION = 0.5;

/** The JSON of GET /api/v1/incidents (documented in docs/metrics.md): groups with anomalous signals now. */
export function incidentsDocument(s: Snapshot) {
  const iso = (t?: number) => (t === undefined ? null : new Date(t * 1000).toISOString());
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    generated_at: iso(s.builtAtSeconds),
    incidents: s.groups
      .filter((g) => g.incident)
      .map((g) => ({
        group: g.labels,
        pattern: g.incident!.pattern,
        first_signal: g.incident!.firstSignal,
        hint: g.incident!.hint,
        anomalous_signals: g.anomalousSignals,
        group_score: g.forestScore === undefined ? null : finite(g.forestScore),
        signals: g.signals.map((x) => ({
          signal: x.signal,
          anomalous: x.anomalous,
          onset: iso(x.onsetSeconds),
          score: finite(x.score),
          value: finite(x.value),
          expected: finite(x.expected),
        })),
        correlated_pairs: [...g.correlations]
          .filter((c) => Math.abs(c.value) >= MIN_ABS_CORRELATION)
          .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
          .slice(0, TOP_PAIRS)
          .map((c) => ({ signal_a: c.signalA, signal_b: c.signalB, method: c.method, value: c.value })),
      })),
  };
}
