/** How the receiver's JSON API writes times and episodes, and waits for slow parts. */
import { EpisodeRow } from '../store/receiver-store';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function episodeJson(e: EpisodeRow) {
  return {
    id: e.id,
    fingerprint: e.fingerprint,
    alertname: e.alertname,
    status: e.status,
    starts_at: e.startsAt,
    opened_at: iso(e.openedAtMs),
    resolved_at: e.resolvedAtMs === null ? null : iso(e.resolvedAtMs),
    resolve_kind: e.resolveKind,
    time_to_resolve_seconds: e.resolvedAtMs === null ? null : Math.max(0, (e.resolvedAtMs - e.startsAtMs) / 1000),
    runbook: e.runbook,
    labels: e.labels,
    annotations: e.annotations,
  };
}

/** The promise's value if it settles within `ms`, else {status: pending}; undefined stays undefined. */
export async function settledWithin<T>(p: Promise<T> | undefined, ms: number): Promise<T | { status: 'pending' } | undefined> {
  if (!p) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<{ status: 'pending' }>((resolve) => (timer = setTimeout(() => resolve({ status: 'pending' }), ms)));
  try {
    return await Promise.race([p, pending]);
  } finally {
    clearTimeout(timer);
  }
}
