/**
 * Alertmanager's webhook payload (version 4), after Alertmanager's template.Data and
 * template.Alert. Parsed leniently: unknown fields are ignored (newer Alertmanagers add them), and
 * a bad alert inside a good group is returned as rejected with its reason rather than failing the
 * request, because Alertmanager drops the whole group on a 4xx.
 */

export type AlertStatus = 'firing' | 'resolved';

/** One alert as the receiver uses it: plain data. */
export interface WebhookAlert {
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** ISO 8601, as sent. */
  startsAt: string;
  /** Milliseconds since the epoch. */
  startsAtMs: number;
  endsAt?: string;
  generatorURL?: string;
  fingerprint: string;
}

export interface RejectedAlert {
  index: number;
  reason: string;
  /** What could be read of it, for the audit log. */
  raw: unknown;
}

export interface WebhookPayload {
  version: string;
  groupKey: string;
  receiver: string;
  status: string;
  externalURL?: string;
  truncatedAlerts: number;
  alerts: WebhookAlert[];
  rejected: RejectedAlert[];
}

/** A request the receiver cannot use at all: answered 4xx with this message. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

const MAX_LABEL_BYTES = 16 * 1024;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function stringMap(x: unknown, what: string): Record<string, string> {
  if (x === undefined || x === null) return {};
  if (!isObject(x)) throw new Error(`${what} is not an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(x)) {
    if (typeof v !== 'string') throw new Error(`${what}.${k} is not a string`);
    if (k.length + v.length > MAX_LABEL_BYTES) throw new Error(`${what}.${k} is longer than ${MAX_LABEL_BYTES} characters`);
    out[k] = v;
  }
  return out;
}

function parseAlert(x: unknown): WebhookAlert {
  if (!isObject(x)) throw new Error('alert is not an object');
  const status = x.status;
  if (status !== 'firing' && status !== 'resolved') throw new Error(`status ${JSON.stringify(status)} is neither "firing" nor "resolved"`);
  const labels = stringMap(x.labels, 'labels');
  if (!labels.alertname) throw new Error('labels.alertname is missing');
  const annotations = stringMap(x.annotations, 'annotations');
  if (typeof x.startsAt !== 'string') throw new Error('startsAt is missing');
  const startsAtMs = Date.parse(x.startsAt);
  if (!Number.isFinite(startsAtMs)) throw new Error(`startsAt ${JSON.stringify(x.startsAt)} is not a timestamp`);
  if (typeof x.fingerprint !== 'string' || !/^[0-9a-f]{1,64}$/i.test(x.fingerprint)) throw new Error('fingerprint is missing or not hexadecimal');
  return {
    status,
    labels,
    annotations,
    startsAt: x.startsAt,
    startsAtMs,
    endsAt: typeof x.endsAt === 'string' ? x.endsAt : undefined,
    generatorURL: typeof x.generatorURL === 'string' ? x.generatorURL : undefined,
    fingerprint: x.fingerprint.toLowerCase(),
  };
}

/** Parses a decoded JSON body. Throws PayloadError only when the whole request is unusable. */
export function parseWebhookPayload(body: unknown): WebhookPayload {
  if (!isObject(body)) throw new PayloadError('the body is not a JSON object');
  if (!Array.isArray(body.alerts)) throw new PayloadError('"alerts" is missing or not an array');
  if (body.version !== undefined && typeof body.version !== 'string') throw new PayloadError('"version" is not a string');
  const alerts: WebhookAlert[] = [];
  const rejected: RejectedAlert[] = [];
  body.alerts.forEach((a, index) => {
    try {
      alerts.push(parseAlert(a));
    } catch (err) {
      rejected.push({ index, reason: (err as Error).message, raw: a });
    }
  });
  return {
    version: typeof body.version === 'string' ? body.version : '4',
    groupKey: typeof body.groupKey === 'string' ? body.groupKey : '',
    receiver: typeof body.receiver === 'string' ? body.receiver : '',
    status: typeof body.status === 'string' ? body.status : '',
    externalURL: typeof body.externalURL === 'string' ? body.externalURL : undefined,
    truncatedAlerts: typeof body.truncatedAlerts === 'number' ? body.truncatedAlerts : 0,
    alerts,
    rejected,
  };
}
