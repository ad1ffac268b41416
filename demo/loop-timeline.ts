/**
 * Follows one injected fault through the loop and records when each step happened, each read
 * from the component that did it: the exporter's /metrics (score, observed value and band),
 * Prometheus' /api/v1/alerts, Alertmanager's /api/v2/alerts and the receiver's episode (when the
 * webhook arrived, the decision, the action, the resolve). Times are seconds since the demo
 * service started the fault (its own record of it).
 */
import axios from 'axios';
import { FaultType } from './faults';

/** A fault to follow: which service, what goes wrong and how much (see faults.ts). */
export interface LoopFault {
  service: string;
  type: FaultType;
  magnitude: number;
  /** How long it lasts (a fault a restart does not fix passes on its own); absent: until a restart. */
  durationSeconds?: number;
}

/** The signal each fault type shows in (the demo config's signals). */
export const FAULT_SIGNAL: Record<FaultType, string> = { latency: 'latency', errors: 'errors', traffic_drop: 'traffic', traffic_surge: 'traffic' };

/** The unit of each demo signal (demo/anomaly-exporter.demo.yml). */
export const SIGNAL_UNIT: Record<string, 'seconds' | 'requests/s' | 'ratio'> = { latency: 'seconds', traffic: 'requests/s', errors: 'ratio' };

/**
 * A demo signal's value as the product's pages write it (common/units.ts' formatWithUnit, which
 * the demo may not import: it is any service): four significant digits, seconds as ms below 1 s,
 * a ratio as a percentage. test/demo-units.test.ts holds the two to the same text.
 */
export function formatSignalValue(v: number | undefined, signal: string): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const digits = (x: number) => (x === 0 ? '0' : Math.abs(x) < 1e-4 ? x.toPrecision(3) : Number(x.toPrecision(4)).toString());
  const unit = SIGNAL_UNIT[signal];
  if (unit === 'ratio') return `${digits(v * 100)} %`;
  if (unit === 'requests/s') return `${digits(v)} requests/s`;
  if (unit === 'seconds') {
    const a = Math.abs(v);
    if (a === 0) return '0 s';
    if (a < 1e-3) return `${digits(v * 1e6)} µs`;
    if (a < 1) return `${digits(v * 1e3)} ms`;
    if (a < 120) return `${digits(v)} s`;
    return `${digits(v / 60)} min`;
  }
  return digits(v);
}

export interface DemoUrls {
  demo: string;
  prometheus: string;
  alertmanager: string;
  exporter: string;
  receiver: string;
}

/** The steps in loop order, with what each means (printed as the timeline). */
export const STEPS = [
  ['score_above_1', 'anomaly score above 1 (exporter /metrics)'],
  ['alert_firing', 'alert firing (Prometheus or vmalert /api/v1/alerts)'],
  ['alertmanager_received', 'alert in Alertmanager (/api/v2/alerts)'],
  ['alert_delivered', 'Alertmanager delivered it to the receiver (episode opened)'],
  ['action_decided', 'runbook decision (receiver episode)'],
  ['action_executed', 'remediation action done (receiver episode)'],
  ['value_in_band', 'observed value back inside its band (exporter /metrics)'],
  ['alert_resolved', 'recovered: the alert stopped firing (its endsAt, as the receiver records the resolve)'],
] as const;

export type StepName = (typeof STEPS)[number][0];

export interface Timeline {
  ok: boolean;
  detect_seconds: number | null;
  action_seconds: number | null;
  resolve_seconds: number | null;
  steps: Record<StepName, number | null>;
  /** What the receiver recorded: the decision and the action's outcome and detail. */
  decision?: string;
  action?: string;
  episode_id?: number;
  /** The signal the fault shows in, whose score, alert and episode are followed. */
  signal: string;
  fault: { service: string; type: string; magnitude: number; started_at: string };
  error?: string;
}

/** The value of `name{labels...}` lines of exposition text whose labels include every `want`. */
export function metricValue(text: string, name: string, want: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels = line.slice(name.length + 1, close);
    if (Object.entries(want).every(([k, v]) => labels.includes(`${k}="${v}"`))) return Number(line.slice(close + 1).trim());
  }
  return undefined;
}

interface EpisodeDetail {
  id: number;
  opened_at: string;
  resolved_at: string | null;
  resolve_kind: string | null;
  labels: Record<string, string>;
  decisions: { at: string; decision: string; reason: string }[];
  actions: { started_at: string; finished_at: string | null; outcome: string; detail: string }[];
}

const http = axios.create({ timeout: 3000, validateStatus: () => true });

/**
 * Injects `fault` through the demo service's API and follows it in the signal it shows in
 * until the episode is resolved or `timeoutMs` passes. `onStep` is called as each step happens.
 */
export async function followFault(
  urls: DemoUrls,
  fault: LoopFault,
  opts: { timeoutMs: number; onStep?: (step: StepName, seconds: number) => void },
): Promise<Timeline> {
  const target = { service: fault.service, signal: FAULT_SIGNAL[fault.type] };
  const res = await http.post(`${urls.demo}/faults`, {
    service: fault.service,
    type: fault.type,
    magnitude: fault.magnitude,
    ...(fault.durationSeconds ? { duration: fault.durationSeconds } : {}),
  });
  if (res.status !== 201) throw new Error(`the demo service refused the fault: ${res.status} ${JSON.stringify(res.data)}`);
  const faultMs = res.data.fault.startedAtMs as number;
  const steps = Object.fromEntries(STEPS.map(([k]) => [k, null])) as Record<StepName, number | null>;
  const timeline: Timeline = {
    ok: false,
    detect_seconds: null,
    action_seconds: null,
    resolve_seconds: null,
    steps,
    signal: target.signal,
    fault: { service: fault.service, type: fault.type, magnitude: fault.magnitude, started_at: new Date(faultMs).toISOString() },
  };
  const mark = (step: StepName, atMs: number) => {
    if (steps[step] !== null) return;
    steps[step] = Number(((atMs - faultMs) / 1000).toFixed(1));
    opts.onStep?.(step, steps[step]!);
  };
  const labels = { service: target.service, signal: target.signal };
  const deadline = faultMs + opts.timeoutMs;
  let episodeId: number | undefined;
  // Until the loop is closed: the alert resolved and the exporter saw the service back in its band.
  while (Date.now() < deadline && (steps.alert_resolved === null || steps.value_in_band === null)) {
    const now = Date.now();
    const metrics = await http.get(`${urls.exporter}/metrics`, { responseType: 'text' });
    if (metrics.status === 200) {
      const text = String(metrics.data);
      const score = metricValue(text, 'anomaly_score', { ...labels, model: 'ensemble' });
      if (score !== undefined && score > 1) mark('score_above_1', now);
      const observed = metricValue(text, 'anomaly_observed_value', labels);
      const lower = metricValue(text, 'anomaly_expected_lower', labels);
      const upper = metricValue(text, 'anomaly_expected_upper', labels);
      const inBand = observed !== undefined && lower !== undefined && upper !== undefined && observed >= lower && observed <= upper;
      if (steps.action_executed !== null && inBand) mark('value_in_band', now);
    }
    if (steps.alert_firing === null) {
      const alerts = await http.get(`${urls.prometheus}/api/v1/alerts`);
      const list = (alerts.data?.data?.alerts ?? []) as { labels: Record<string, string>; state: string }[];
      if (list.some((a) => a.state === 'firing' && a.labels.service === target.service && a.labels.signal === target.signal)) mark('alert_firing', now);
    }
    if (steps.alertmanager_received === null) {
      const alerts = await http.get(`${urls.alertmanager}/api/v2/alerts`, {
        params: { filter: [`service="${target.service}"`, `signal="${target.signal}"`] },
        paramsSerializer: { indexes: null },
      });
      const list = (Array.isArray(alerts.data) ? alerts.data : []) as { status: { state: string } }[];
      if (list.some((a) => a.status.state === 'active')) mark('alertmanager_received', now);
    }
    if (episodeId === undefined) {
      const eps = await http.get(`${urls.receiver}/api/v1/episodes`, { params: { since: new Date(faultMs).toISOString() } });
      const match = ((eps.data?.episodes ?? []) as EpisodeDetail[]).find((e) => e.labels.service === target.service && e.labels.signal === target.signal);
      episodeId = match?.id;
    }
    if (episodeId !== undefined) {
      const d = (await http.get(`${urls.receiver}/api/v1/episodes/${episodeId}`)).data as EpisodeDetail;
      timeline.episode_id = d.id;
      mark('alert_delivered', Date.parse(d.opened_at));
      if (d.decisions[0]) {
        mark('action_decided', Date.parse(d.decisions[0].at));
        timeline.decision = `${d.decisions[0].decision}: ${d.decisions[0].reason}`;
      }
      const action = d.actions[0];
      if (action?.finished_at) {
        timeline.action = `${action.outcome}: ${action.detail}`;
        if (action.outcome === 'succeeded') mark('action_executed', Date.parse(action.finished_at));
      }
      if (d.resolved_at && steps.action_executed !== null) mark('alert_resolved', Date.parse(d.resolved_at));
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  timeline.detect_seconds = steps.score_above_1;
  timeline.action_seconds = steps.action_executed;
  timeline.resolve_seconds = steps.alert_resolved;
  timeline.ok = STEPS.every(([k]) => steps[k] !== null);
  if (!timeline.ok)
    timeline.error = `within ${opts.timeoutMs / 1000} s these steps did not happen: ${STEPS.filter(([k]) => steps[k] === null)
      .map(([k]) => k)
      .join(', ')}`;
  return timeline;
}
