import { DEMO_SERVICES } from './demo-service';
import { normalFrom, seededRandom } from './seeded-random';

/** The demo service's histogram buckets (seconds), as it declares them. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5];
/** What a 20 ms setTimeout and a loopback request add to the latency the service draws. */
const OVERHEAD_SECONDS = 0.0015;

export interface HistoryOptions {
  /** Seconds (Unix); the first sample. */
  fromSeconds: number;
  /** Seconds; the last sample, at which the live service starts counting from zero. */
  toSeconds: number;
  stepSeconds: number;
  /** Requests per second per service, as the demo service's load generator sends. */
  ratePerService: number;
  /** Labels Prometheus adds at scrape (job, instance), so history and live data are one series. */
  targetLabels: Record<string, string>;
  seed: number;
}

interface SeriesCounters {
  service: string;
  route: string;
  ok: number;
  failed: number;
  sum: number;
  buckets: Float64Array;
}

/**
 * OpenMetrics text of the demo service's request metrics over a past range, drawn from the same
 * distributions as the live service (log-normal latency around each service's median, its base
 * error ratio, an even split over routes), for `promtool tsdb create-blocks-from openmetrics`.
 * The demo backfills it so the exporter's first fit has history and the models are warm at once.
 * Counters start at zero. The history ends when the live service starts: its counters starting
 * again from zero are then a counter reset that rate() counts exactly (a history that ended
 * earlier or later would count the requests in between twice or not at all, and traffic would
 * look anomalous right after the start).
 */
export function demoHistory(opts: HistoryOptions): string {
  const random = seededRandom(opts.seed);
  const normal = normalFrom(random);
  const series: SeriesCounters[] = DEMO_SERVICES.flatMap((s) =>
    s.routes.map((route) => ({ service: s.name, route, ok: 0, failed: 0, sum: 0, buckets: new Float64Array(BUCKETS.length) })),
  );
  const target = Object.entries(opts.targetLabels)
    .map(([k, v]) => `,${k}="${v}"`)
    .join('');
  const requests: string[][] = series.map(() => []);
  const durations: string[][] = series.map(() => []);
  let credit = 0;
  const samples = Math.floor((opts.toSeconds - opts.fromSeconds) / opts.stepSeconds);
  for (let k = samples; k >= 0; k--) {
    // Counted back from the end, so the last sample falls exactly where the live counters begin.
    const t = Number((opts.toSeconds - k * opts.stepSeconds).toFixed(3));
    credit += opts.ratePerService * opts.stepSeconds;
    const n = Math.floor(credit);
    credit -= n;
    for (const profile of DEMO_SERVICES) {
      for (let k = 0; k < n; k++) {
        const route = profile.routes[Math.floor(random() * profile.routes.length)];
        const c = series.find((x) => x.service === profile.name && x.route === route)!;
        const latency = profile.medianLatency * Math.exp(0.35 * normal()) + OVERHEAD_SECONDS;
        if (random() < profile.baseErrorRatio) c.failed++;
        else c.ok++;
        c.sum += latency;
        for (let b = 0; b < BUCKETS.length; b++) if (latency <= BUCKETS[b]) c.buckets[b]++;
      }
    }
    series.forEach((c, i) => {
      const labels = `service="${c.service}",route="${c.route}"${target}`;
      requests[i].push(`http_requests_total{${labels},code="200"} ${c.ok} ${t}`, `http_requests_total{${labels},code="500"} ${c.failed} ${t}`);
      const count = c.ok + c.failed;
      BUCKETS.forEach((le, b) => durations[i].push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${c.buckets[b]} ${t}`));
      durations[i].push(
        `http_request_duration_seconds_bucket{${labels},le="+Inf"} ${count} ${t}`,
        `http_request_duration_seconds_sum{${labels}} ${c.sum} ${t}`,
        `http_request_duration_seconds_count{${labels}} ${count} ${t}`,
      );
    });
  }
  // Each series' samples in time order, one family after the other, as OpenMetrics requires.
  const bySeries = (lines: string[][]) => {
    const out: string[] = [];
    for (const perSeries of lines) {
      const keyed = new Map<string, string[]>();
      for (const line of perSeries) {
        const key = line.slice(0, line.lastIndexOf('}') + 1);
        let list = keyed.get(key);
        if (!list) keyed.set(key, (list = []));
        list.push(line);
      }
      for (const list of keyed.values()) out.push(...list);
    }
    return out.join('\n');
  };
  return [
    '# HELP http_requests HTTP requests served, by service, route and status code.',
    '# TYPE http_requests counter',
    bySeries(requests),
    '# HELP http_request_duration_seconds HTTP request duration, by service and route.',
    '# TYPE http_request_duration_seconds histogram',
    bySeries(durations),
    '# EOF',
    '',
  ].join('\n');
}
