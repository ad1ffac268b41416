/**
 * What `POST /api/v1/analyze` accepts, read into the alert to analyse: an alert in Alertmanager's
 * format (bare, or as `{"alert": …}`), or a label set and a time (`{"labels": {"service":
 * "checkout"}, "time": "2026-11-27T10:00:00Z"}`, or the shorthand `{"service": "checkout",
 * "time": …}`; no time: now). Unusable input is a RequestError with the reason (400).
 */
export class RequestError extends Error {}

export interface AnalysisRequest {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAtMs: number;
  /** When the alert stopped firing, if it did. */
  endsAtMs: number | null;
  /** Set when the request was an Alertmanager alert: its episode, if the receiver has one, is used. */
  fingerprint: string | null;
}

const MAX_LABELS = 64;
const MAX_VALUE = 1024;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function stringMap(x: unknown, what: string): Record<string, string> {
  if (x === undefined) return {};
  if (!isObject(x)) throw new RequestError(`${what} must be an object of strings`);
  const entries = Object.entries(x);
  if (entries.length > MAX_LABELS) throw new RequestError(`${what} has more than ${MAX_LABELS} entries`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new RequestError(`${what}.${k} is not a string`);
    if (k.length + v.length > MAX_VALUE) throw new RequestError(`${what}.${k} is longer than ${MAX_VALUE} characters`);
  }
  return x as Record<string, string>;
}

function time(x: unknown, what: string): number {
  const ms = typeof x === 'string' ? Date.parse(x) : NaN;
  if (!Number.isFinite(ms)) throw new RequestError(`${what} must be an RFC 3339 time, e.g. 2026-11-27T10:00:00Z`);
  return ms;
}

export function parseAnalysisRequest(body: unknown, nowMs: number): AnalysisRequest {
  if (!isObject(body)) throw new RequestError('the body must be a JSON object: an Alertmanager alert, or {"labels": {...}, "time": "..."}');
  if (Array.isArray(body.alerts)) throw new RequestError('send one alert ({"alert": {...}}), not a whole webhook payload');
  const alert = isObject(body.alert) ? body.alert : body.startsAt !== undefined ? body : undefined;
  let req: AnalysisRequest;
  if (alert) {
    const labels = stringMap(alert.labels, 'alert.labels');
    if (Object.keys(labels).length === 0) throw new RequestError('alert.labels is missing or empty');
    const startsAtMs = time(alert.startsAt, 'alert.startsAt');
    // Alertmanager writes 0001-01-01T00:00:00Z for "not ended".
    const ends = typeof alert.endsAt === 'string' ? Date.parse(alert.endsAt) : NaN;
    const fingerprint = typeof alert.fingerprint === 'string' && /^[0-9a-f]{1,64}$/i.test(alert.fingerprint) ? alert.fingerprint.toLowerCase() : null;
    req = {
      labels,
      annotations: stringMap(alert.annotations, 'alert.annotations'),
      startsAtMs,
      endsAtMs: Number.isFinite(ends) && ends >= startsAtMs && ends <= nowMs ? ends : null,
      fingerprint,
    };
  } else {
    const labels = body.labels !== undefined ? stringMap(body.labels, 'labels') : typeof body.service === 'string' ? { service: body.service } : {};
    if (Object.keys(labels).length === 0)
      throw new RequestError('give an alert ({"alert": {...}}), or labels ({"labels": {"service": "checkout"}} or {"service": "checkout"}) and a time');
    req = { labels, annotations: {}, startsAtMs: body.time === undefined ? nowMs : time(body.time, 'time'), endsAtMs: null, fingerprint: null };
  }
  if (req.startsAtMs > nowMs + 60_000) throw new RequestError('the time is in the future');
  return req;
}
