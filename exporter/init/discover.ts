/**
 * What a source holds, for `init`: its metric names, the label names on the metrics the presets
 * read, and so which presets it has, grouped by which label, with how many groups. Reads the
 * source's HTTP API only (label values, labels, one instant query per preset found), each answer
 * bounded in size and time.
 */
import { PrometheusHttp } from '../../common/prometheus-http';
import { PRESETS, Preset, PresetSignal, SourceFacts } from '../presets';

/** A preset the source has, with what init writes for it. */
export interface FoundPreset {
  preset: Preset;
  /** The label that names a service on its metrics (the preset's first one present). */
  groupLabel: string;
  /** How many values that label has on the preset's metrics now (undefined when the count failed). */
  groups?: number;
  /** The signals the source's metrics allow, each with its query. */
  signals: { signal: PresetSignal; query: string }[];
  /** The preset's signals the source lacks a metric or label for. */
  missing: PresetSignal[];
}

export interface Discovery {
  /** Every metric name the source has (the count, for the summary). */
  metricNames: number;
  found: FoundPreset[];
}

/** Thrown when an answer is not what the API documents (the source is not a Prometheus API). */
export class DiscoveryError extends Error {}

/** How far back label names are read: a metric scraped in the last hour is there. */
const LOOKBACK_SECONDS = 3600;

export async function discover(http: PrometheusHttp, nowSeconds = Date.now() / 1000): Promise<Discovery> {
  const start = String(Math.floor(nowSeconds - LOOKBACK_SECONDS));
  const end = String(Math.floor(nowSeconds));
  const names = stringList(await http.get('/api/v1/label/__name__/values', { start, end }, 'metric names'), 'metric names');
  const metrics = new Set(names);
  const candidates = PRESETS.filter((p) => p.metrics.some((m) => metrics.has(m)));
  // Label names of each metric a candidate reads: a few requests, each bounded.
  const labelsOf = new Map<string, Set<string>>();
  for (const m of new Set(candidates.flatMap((p) => p.metrics.filter((x) => metrics.has(x))))) {
    labelsOf.set(m, new Set(stringList(await http.get('/api/v1/labels', { 'match[]': [m], start, end }, `labels of ${m}`), `labels of ${m}`)));
  }
  const facts: SourceFacts = { metrics, labels: (m) => labelsOf.get(m) ?? new Set() };
  const found: FoundPreset[] = [];
  for (const preset of candidates) {
    const present = preset.metrics.filter((m) => metrics.has(m));
    const groupLabel = preset.groupLabels.find((l) => present.some((m) => facts.labels(m).has(l)));
    if (!groupLabel) continue;
    const signals: FoundPreset['signals'] = [];
    const missing: PresetSignal[] = [];
    for (const signal of preset.signals) {
      const query = signal.query(groupLabel, facts);
      if (query) signals.push({ signal, query });
      else missing.push(signal);
    }
    if (signals.length === 0) continue;
    found.push({ preset, groupLabel, groups: await countGroups(http, present[0], groupLabel), signals, missing });
  }
  return { metricNames: names.length, found };
}

/** How many values `label` has on `metric` now; undefined when the source would not say. */
async function countGroups(http: PrometheusHttp, metric: string, label: string): Promise<number | undefined> {
  try {
    const body = JSON.parse(await http.post('/api/v1/query', { query: `count(count by (${label}) (${metric}))` }, `groups of ${metric}`)) as {
      data?: { result?: { value?: [number, string] }[] };
    };
    const v = Number(body.data?.result?.[0]?.value?.[1] ?? 0);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The `data` of an API answer that must be a list of strings. */
function stringList(body: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new DiscoveryError(`${what}: the answer is not JSON: is this a Prometheus HTTP API?`);
  }
  const data = (parsed as { status?: unknown; data?: unknown })?.data;
  if ((parsed as { status?: unknown })?.status !== 'success' || !Array.isArray(data) || !data.every((x) => typeof x === 'string'))
    throw new DiscoveryError(`${what}: the answer is not a Prometheus API list of strings`);
  return data;
}
