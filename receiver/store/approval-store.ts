/** Approvals: a decision that waits for a person (approve, reject) or expires. */
import Database from 'better-sqlite3';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ApprovalRow {
  id: number;
  episodeId: number;
  runbook: string;
  createdAtMs: number;
  expiresAtMs: number;
  status: ApprovalStatus;
  decidedAtMs: number | null;
  decidedBy: string | null;
}

const COLUMNS =
  'id, episode_id AS episodeId, runbook, created_at_ms AS createdAtMs, expires_at_ms AS expiresAtMs, status, decided_at_ms AS decidedAtMs, decided_by AS decidedBy';

export class ApprovalStore {
  constructor(private readonly db: Database.Database) {}

  add(a: { episodeId: number; runbook: string; createdAtMs: number; expiresAtMs: number }): number {
    const info = this.db
      .prepare("INSERT INTO approvals (episode_id, runbook, created_at_ms, expires_at_ms, status) VALUES (?, ?, ?, ?, 'pending')")
      .run(a.episodeId, a.runbook, a.createdAtMs, a.expiresAtMs);
    return Number(info.lastInsertRowid);
  }

  get(id: number): ApprovalRow | undefined {
    return this.db.prepare(`SELECT ${COLUMNS} FROM approvals WHERE id = ?`).get(id) as ApprovalRow | undefined;
  }

  list(status?: ApprovalStatus): ApprovalRow[] {
    const sql = `SELECT ${COLUMNS} FROM approvals ${status ? 'WHERE status = ?' : ''} ORDER BY id`;
    return (status ? this.db.prepare(sql).all(status) : this.db.prepare(sql).all()) as ApprovalRow[];
  }

  of(episodeId: number): ApprovalRow[] {
    return this.db.prepare(`SELECT ${COLUMNS} FROM approvals WHERE episode_id = ? ORDER BY id`).all(episodeId) as ApprovalRow[];
  }

  /** Decides a pending approval (an approval already decided stays as it was). */
  decide(id: number, status: 'approved' | 'rejected' | 'expired', atMs: number, by: string | null): void {
    this.db.prepare("UPDATE approvals SET status = ?, decided_at_ms = ?, decided_by = ? WHERE id = ? AND status = 'pending'").run(status, atMs, by, id);
  }
}
