/** Fault injection state of the demo service: what is wrong with which service, until when. */
export type FaultType = 'latency' | 'errors' | 'traffic_drop' | 'traffic_surge';
export const FAULT_TYPES: readonly FaultType[] = ['latency', 'errors', 'traffic_drop', 'traffic_surge'];
/** Faults from outside the service (more callers): restarting it does not clear them. */
export const EXTERNAL_FAULTS: readonly FaultType[] = ['traffic_surge'];

export interface Fault {
  service: string;
  type: FaultType;
  /** latency: added seconds; errors: extra error ratio 0..1; traffic_drop: share of load dropped 0..1; traffic_surge: load × this (1..20). */
  magnitude: number;
  startedAtMs: number;
  /** Absent: until cleared. */
  endsAtMs?: number;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A fault request body, checked field by field; returns the reason when it is unusable. */
export function parseFaultRequest(body: unknown, services: readonly string[], nowMs: number): Fault | string {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return 'expected a JSON object, e.g. {"service": "checkout", "type": "latency", "magnitude": 0.3}';
  const b = body as Record<string, unknown>;
  if (typeof b.service !== 'string' || !services.includes(b.service)) return `service must be one of ${services.join(', ')}`;
  if (typeof b.type !== 'string' || !FAULT_TYPES.includes(b.type as FaultType)) return `type must be one of ${FAULT_TYPES.join(', ')}`;
  const type = b.type as FaultType;
  const magnitude = b.magnitude === undefined ? defaultMagnitude(type) : Number(b.magnitude);
  if (!Number.isFinite(magnitude) || magnitude < 0) return 'magnitude must be a non-negative number';
  if (type === 'traffic_surge' && (magnitude < 1 || magnitude > 20)) return 'magnitude of traffic_surge is a multiple of the load, from 1 to 20';
  if (type !== 'latency' && type !== 'traffic_surge' && magnitude > 1) return `magnitude of ${type} is a ratio from 0 to 1`;
  if (type === 'latency' && magnitude > 30) return 'latency magnitude is in seconds, at most 30';
  let endsAtMs: number | undefined;
  if (b.duration !== undefined) {
    let ms: number;
    if (typeof b.duration === 'number') ms = b.duration * 1000;
    else {
      const m = DURATION.exec(String(b.duration));
      if (!m) return 'duration must be seconds or a string like 30s, 5m';
      ms = Number(m[1]) * UNIT_MS[m[2]];
    }
    if (!(ms > 0)) return 'duration must be positive';
    endsAtMs = nowMs + ms;
  }
  return { service: b.service, type, magnitude, startedAtMs: nowMs, endsAtMs };
}

function defaultMagnitude(type: FaultType): number {
  return type === 'latency' ? 0.5 : type === 'errors' ? 0.3 : type === 'traffic_surge' ? 3 : 0.8;
}

export class FaultBook {
  private faults: Fault[] = [];

  add(f: Fault): void {
    // One fault per service and type: a new one replaces the old.
    this.faults = this.faults.filter((x) => !(x.service === f.service && x.type === f.type));
    this.faults.push(f);
  }

  /** Clears faults (of one service when given); `restart`: only those a restart fixes, not external ones. */
  clear(service?: string, opts: { restart?: boolean } = {}): number {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => (service !== undefined && f.service !== service) || (opts.restart === true && EXTERNAL_FAULTS.includes(f.type)));
    return before - this.faults.length;
  }

  active(nowMs: number): Fault[] {
    this.faults = this.faults.filter((f) => f.endsAtMs === undefined || f.endsAtMs > nowMs);
    return [...this.faults];
  }

  /** The active fault's magnitude for a service and type, or 0. */
  magnitude(service: string, type: FaultType, nowMs: number): number {
    const f = this.faults.find((x) => x.service === service && x.type === type && (x.endsAtMs === undefined || x.endsAtMs > nowMs));
    return f ? f.magnitude : 0;
  }
}
