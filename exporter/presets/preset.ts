/**
 * A preset: the signals of a well-known kind of source (an HTTP server instrumented with a
 * Prometheus client, OpenTelemetry, Micrometer, NGINX, Istio, node_exporter), as PromQL over its
 * real metric names. `init` looks for a preset's metrics in a source and writes its signals into a
 * config; a config can also name one (`preset: NAME`) instead of listing signals. One file per
 * preset, registered in presets/index.ts.
 */
import { SignalKind } from '../../common/vocabulary';

/** What a source holds, as far as a preset's queries need to know (discovered by `init`). */
export interface SourceFacts {
  /** Every metric name the source has. */
  metrics: ReadonlySet<string>;
  /** The label names on a metric's series (empty when unknown). */
  labels(metric: string): ReadonlySet<string>;
}

export interface PresetSignal {
  /** The signal's name in the config (`latency`, `traffic` and `errors` name their kind). */
  name: string;
  kind: SignalKind;
  /** How pages write its values (common/units.ts). */
  unit: string;
  /** Which way is bad: latency and errors page going up, traffic either way. */
  direction: 'both' | 'above' | 'below';
  /** One line for the config's comment: what it measures. */
  help: string;
  /** A deviation smaller than this never pages (the signal's unit), e.g. one point of error ratio. */
  minDeviation?: number;
  /** A deviation smaller than this share of the expected value never pages, e.g. 20 % of the request rate. */
  minRelativeDeviation?: number;
  /**
   * The query, aggregated `by` the group labels (e.g. `service` or `service, instance`). With
   * `facts` (from `init`), the form the source's metrics allow (a histogram or only a summary,
   * which status label), or undefined when the source lacks what it needs; without (a config's
   * `preset:`), the preset's usual form.
   */
  query(by: string, facts?: SourceFacts): string | undefined;
}

export interface Preset {
  /** The name a config gives (`preset: NAME`). */
  name: string;
  /** One line: what it is for, with the metric names it reads. */
  title: string;
  /** A source has this preset when it holds any of these metric names. */
  metrics: readonly string[];
  /** Labels that name a service, in order of preference: the first one the metrics carry groups the signals. */
  groupLabels: readonly string[];
  signals: readonly PresetSignal[];
}

/** The first of `names` the source has, or undefined (any name, without facts). */
export function firstPresent(facts: SourceFacts | undefined, names: readonly string[]): string | undefined {
  if (!facts) return names[0];
  return names.find((n) => facts.metrics.has(n));
}

/** The first of `labels` on `metric`'s series (the first of them without facts), or undefined. */
export function firstLabel(facts: SourceFacts | undefined, metric: string, labels: readonly string[]): string | undefined {
  if (!facts) return labels[0];
  const have = facts.labels(metric);
  return labels.find((l) => have.has(l));
}

/**
 * The rate window of every preset's counters: at least four scrapes at the usual 15 s to 1 m
 * scrape intervals, as Grafana's $__rate_interval would take.
 */
export const RATE = '5m';

/** The 95th percentile over a histogram's buckets, by the group labels. */
export function histogramP95(bucket: string, by: string, selector = ''): string {
  return `histogram_quantile(0.95, sum by (le, ${by}) (rate(${bucket}${selector}[${RATE}])))`;
}

/** The mean over a histogram's or summary's _sum and _count, by the group labels. */
export function meanOf(base: string, by: string, selector = ''): string {
  return `sum by (${by}) (rate(${base}_sum${selector}[${RATE}])) / sum by (${by}) (rate(${base}_count${selector}[${RATE}]))`;
}

/** Requests per second of a counter, by the group labels. */
export function ratePerSecond(counter: string, by: string, selector = ''): string {
  return `sum by (${by}) (rate(${counter}${selector}[${RATE}]))`;
}

/**
 * The share of requests answered with a 5xx status: 0 while there are requests and none failed
 * (`or` fills in the groups without a 5xx series, which a plain ratio would leave out until their
 * first error).
 */
export function errorRatio(counter: string, statusLabel: string, by: string, selector = ''): string {
  const all = `sum by (${by}) (rate(${counter}${selector}[${RATE}]))`;
  const failed = `sum by (${by}) (rate(${counter}{${[selector.replace(/^\{|\}$/g, ''), `${statusLabel}=~"5.."`].filter(Boolean).join(', ')}}[${RATE}]))`;
  return `(${failed} or ${all} * 0) / ${all}`;
}

type Query = PresetSignal['query'];

/**
 * A service's request latency in seconds: pages going up, never under 50 ms of change. The HTTP
 * presets differ only in their help and query.
 */
export function latencySignal(help: string, query: Query): PresetSignal {
  return { name: 'latency', kind: 'latency', unit: 'seconds', direction: 'above', help, minDeviation: 0.05, query };
}

/** Requests per second: pages either way, never under 20 % of the expected rate. */
export function trafficSignal(help: string, query: Query): PresetSignal {
  return { name: 'traffic', kind: 'traffic', unit: 'requests/s', direction: 'both', help, minRelativeDeviation: 0.2, query };
}

/** The share of failed requests: pages going up, never under one point of error ratio. */
export function errorsSignal(help: string, query: Query): PresetSignal {
  return { name: 'errors', kind: 'errors', unit: 'ratio', direction: 'above', help, minDeviation: 0.01, query };
}
