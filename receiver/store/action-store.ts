/** Actions: written as `running` before they run, so a crash mid-action stays visible. */
import Database from 'better-sqlite3';
import { AuditLog } from './audit-log';

export type ActionOutcome = 'running' | 'succeeded' | 'failed' | 'outcome_unknown';

export interface ActionRow {
  id: number;
  runbook: string;
  target: string;
  startedAtMs: number;
  finishedAtMs: number | null;
  outcome: ActionOutcome;
  detail: string;
}

export class ActionStore {
  constructor(
    private readonly db: Database.Database,
    private readonly auditLog: AuditLog,
  ) {}

  /** Records that an action starts, before it runs. */
  start(a: { episodeId: number; runbook: string; target: string; atMs: number }): number {
    const info = this.db
      .prepare("INSERT INTO actions (episode_id, runbook, target, started_at_ms, outcome) VALUES (?, ?, ?, ?, 'running')")
      .run(a.episodeId, a.runbook, a.target, a.atMs);
    return Number(info.lastInsertRowid);
  }

  finish(id: number, atMs: number, outcome: 'succeeded' | 'failed', detail: string): void {
    this.db.prepare('UPDATE actions SET finished_at_ms = ?, outcome = ?, detail = ? WHERE id = ?').run(atMs, outcome, detail, id);
  }

  of(episodeId: number): ActionRow[] {
    return this.db
      .prepare(
        'SELECT id, runbook, target, started_at_ms AS startedAtMs, finished_at_ms AS finishedAtMs, outcome, detail FROM actions WHERE episode_id = ? ORDER BY id',
      )
      .all(episodeId) as ActionRow[];
  }

  /** Actions running now (started, not finished), oldest first. */
  running(): (ActionRow & { episodeId: number })[] {
    return this.db
      .prepare(
        "SELECT id, episode_id AS episodeId, runbook, target, started_at_ms AS startedAtMs, finished_at_ms AS finishedAtMs, outcome, detail FROM actions WHERE outcome = 'running' ORDER BY id",
      )
      .all() as (ActionRow & { episodeId: number })[];
  }

  /**
   * After a restart: actions that were started but never finished are marked outcome_unknown.
   * They are shown, never retried by themselves (actions are at most once). Returns their ids.
   */
  markInterrupted(atMs: number): number[] {
    const ids = (this.db.prepare("SELECT id FROM actions WHERE outcome = 'running'").all() as { id: number }[]).map((r) => r.id);
    if (ids.length) {
      this.db.transaction(() => {
        for (const id of ids) {
          this.db
            .prepare(
              "UPDATE actions SET outcome = 'outcome_unknown', finished_at_ms = ?, detail = 'the receiver stopped while the action ran; not retried' WHERE id = ?",
            )
            .run(atMs, id);
          this.auditLog.append(atMs, 'action_outcome_unknown', null, { action: id });
        }
      })();
    }
    return ids;
  }

  /** When the runbook last started an action on the target, if ever. */
  lastAt(runbook: string, target: string): number | undefined {
    const r = this.db.prepare('SELECT max(started_at_ms) AS t FROM actions WHERE runbook = ? AND target = ?').get(runbook, target) as { t: number | null };
    return r.t ?? undefined;
  }

  /** Actions started since `sinceMs`, by one runbook or by all. */
  count(sinceMs: number, runbook?: string): number {
    const r = runbook
      ? (this.db.prepare('SELECT count(*) AS n FROM actions WHERE started_at_ms >= ? AND runbook = ?').get(sinceMs, runbook) as { n: number })
      : (this.db.prepare('SELECT count(*) AS n FROM actions WHERE started_at_ms >= ?').get(sinceMs) as { n: number });
    return r.n;
  }

  /** Distinct targets the runbook acted on since `sinceMs`. */
  targets(runbook: string, sinceMs: number): string[] {
    const rows = this.db.prepare('SELECT DISTINCT target FROM actions WHERE runbook = ? AND started_at_ms >= ?').all(runbook, sinceMs) as { target: string }[];
    return rows.map((r) => r.target);
  }

  episodeHasAny(episodeId: number): boolean {
    return this.db.prepare('SELECT 1 FROM actions WHERE episode_id = ? LIMIT 1').get(episodeId) !== undefined;
  }
}
