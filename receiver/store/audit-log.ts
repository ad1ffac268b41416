/** The audit log: every event of the receiver, allowed or not, with its reason, in order. */
import Database from 'better-sqlite3';

/** Every kind of audit event the receiver writes. */
export type AuditEventKind =
  | 'alert_rejected'
  | 'duplicate_delivery'
  | 'resolved_without_firing'
  | 'episode_opened'
  | 'episode_resolved'
  | 'decision'
  | 'action_started'
  | 'action_succeeded'
  | 'action_failed'
  | 'action_outcome_unknown'
  | 'approval_requested'
  | 'approval_approved'
  | 'approval_rejected'
  | 'approval_expired'
  | 'marked_not_anomaly';

export interface AuditEvent {
  id: number;
  atMs: number;
  kind: AuditEventKind;
  episodeId: number | null;
  detail: Record<string, unknown>;
}

interface AuditDbRow {
  id: number;
  at_ms: number;
  kind: AuditEventKind;
  episode_id: number | null;
  detail_json: string;
}

const fromRow = (r: AuditDbRow): AuditEvent => ({
  id: r.id,
  atMs: r.at_ms,
  kind: r.kind,
  episodeId: r.episode_id,
  detail: JSON.parse(r.detail_json) as Record<string, unknown>,
});

export class AuditLog {
  constructor(private readonly db: Database.Database) {}

  append(atMs: number, kind: AuditEventKind, episodeId: number | null, detail: Record<string, unknown>): void {
    this.db.prepare('INSERT INTO audit (at_ms, kind, episode_id, detail_json) VALUES (?, ?, ?, ?)').run(atMs, kind, episodeId, JSON.stringify(detail));
  }

  /** One episode's events, in order. */
  of(episodeId: number): AuditEvent[] {
    return (this.db.prepare('SELECT id, at_ms, kind, episode_id, detail_json FROM audit WHERE episode_id = ? ORDER BY id').all(episodeId) as AuditDbRow[]).map(
      fromRow,
    );
  }

  /** The whole log in order, as an iterator (the JSON lines export streams it). */
  *iterate(sinceMs = 0): Generator<AuditEvent> {
    const rows = this.db.prepare('SELECT id, at_ms, kind, episode_id, detail_json FROM audit WHERE at_ms >= ? ORDER BY id').iterate(sinceMs);
    for (const r of rows as Iterable<AuditDbRow>) yield fromRow(r);
  }
}
