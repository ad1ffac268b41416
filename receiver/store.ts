/**
 * The receiver's durable store: an embedded SQLite database (better-sqlite3) in WAL mode with
 * synchronous=FULL, so a write acknowledged to Alertmanager survives `kill -9` and power loss.
 * Tables: episodes (one per alert occurrence: fingerprint + startsAt), decisions, actions,
 * approvals, and the audit log (every event, allowed or not, with its reason).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type EpisodeStatus = 'firing' | 'resolved';
/**
 * How an episode ended: recovered; source_lost (the exporter was down or stale, so the alert
 * resolved by itself: not a recovery); unverified (the source could not be checked).
 */
export type ResolveKind = 'recovered' | 'source_lost' | 'unverified';
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
export type Decision = 'executed' | 'dry_run' | 'awaiting_approval' | 'refused' | 'no_runbook' | 'duplicate';
export type ActionOutcome = 'running' | 'succeeded' | 'failed' | 'outcome_unknown';

export interface EpisodeRow {
  id: number;
  fingerprint: string;
  startsAt: string;
  startsAtMs: number;
  alertname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: EpisodeStatus;
  openedAtMs: number;
  resolvedAtMs: number | null;
  resolveKind: ResolveKind | null;
  runbook: string | null;
}

export interface AuditEvent {
  id: number;
  atMs: number;
  kind: string;
  episodeId: number | null;
  detail: Record<string, unknown>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS episodes (
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  starts_at_ms INTEGER NOT NULL,
  alertname TEXT NOT NULL,
  labels_json TEXT NOT NULL,
  annotations_json TEXT NOT NULL,
  status TEXT NOT NULL,
  opened_at_ms INTEGER NOT NULL,
  resolved_at_ms INTEGER,
  resolve_kind TEXT,
  runbook TEXT,
  UNIQUE (fingerprint, starts_at)
);
CREATE INDEX IF NOT EXISTS episodes_status ON episodes (status, opened_at_ms);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY,
  episode_id INTEGER NOT NULL REFERENCES episodes (id),
  at_ms INTEGER NOT NULL,
  runbook TEXT,
  decision TEXT NOT NULL,
  gate TEXT,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_episode ON decisions (episode_id);
CREATE TABLE IF NOT EXISTS actions (
  id INTEGER PRIMARY KEY,
  episode_id INTEGER NOT NULL REFERENCES episodes (id),
  runbook TEXT NOT NULL,
  target TEXT NOT NULL,
  started_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS actions_episode ON actions (episode_id);
CREATE INDEX IF NOT EXISTS actions_runbook ON actions (runbook, started_at_ms);
CREATE TABLE IF NOT EXISTS approvals (
  id INTEGER PRIMARY KEY,
  episode_id INTEGER NOT NULL REFERENCES episodes (id),
  runbook TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  decided_at_ms INTEGER,
  decided_by TEXT
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  episode_id INTEGER,
  detail_json TEXT NOT NULL
);
`;

interface EpisodeDbRow {
  id: number;
  fingerprint: string;
  starts_at: string;
  starts_at_ms: number;
  alertname: string;
  labels_json: string;
  annotations_json: string;
  status: EpisodeStatus;
  opened_at_ms: number;
  resolved_at_ms: number | null;
  resolve_kind: ResolveKind | null;
  runbook: string | null;
}

function episodeFromRow(r: EpisodeDbRow): EpisodeRow {
  return {
    id: r.id,
    fingerprint: r.fingerprint,
    startsAt: r.starts_at,
    startsAtMs: r.starts_at_ms,
    alertname: r.alertname,
    labels: JSON.parse(r.labels_json) as Record<string, string>,
    annotations: JSON.parse(r.annotations_json) as Record<string, string>,
    status: r.status,
    openedAtMs: r.opened_at_ms,
    resolvedAtMs: r.resolved_at_ms,
    resolveKind: r.resolve_kind,
    runbook: r.runbook,
  };
}

export class ReceiverStore {
  readonly db: Database.Database;

  /** Opens (creating if needed) the database at `path`; ':memory:' for tests. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a transaction is on disk (WAL fsynced) before commit returns, so an acknowledged
    // webhook is never lost; NORMAL could lose the last transactions on power loss.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  /** Runs `fn` in one transaction: all of it is stored, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The episode of an alert occurrence, or undefined. */
  findEpisode(fingerprint: string, startsAt: string): EpisodeRow | undefined {
    const r = this.db.prepare('SELECT * FROM episodes WHERE fingerprint = ? AND starts_at = ?').get(fingerprint, startsAt) as EpisodeDbRow | undefined;
    return r && episodeFromRow(r);
  }

  getEpisode(id: number): EpisodeRow | undefined {
    const r = this.db.prepare('SELECT * FROM episodes WHERE id = ?').get(id) as EpisodeDbRow | undefined;
    return r && episodeFromRow(r);
  }

  insertEpisode(e: Omit<EpisodeRow, 'id' | 'resolvedAtMs' | 'resolveKind' | 'runbook'>): EpisodeRow {
    const info = this.db
      .prepare(
        'INSERT INTO episodes (fingerprint, starts_at, starts_at_ms, alertname, labels_json, annotations_json, status, opened_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(e.fingerprint, e.startsAt, e.startsAtMs, e.alertname, JSON.stringify(e.labels), JSON.stringify(e.annotations), e.status, e.openedAtMs);
    return this.getEpisode(Number(info.lastInsertRowid))!;
  }

  resolveEpisode(id: number, atMs: number, kind: ResolveKind): void {
    this.db.prepare("UPDATE episodes SET status = 'resolved', resolved_at_ms = ?, resolve_kind = ? WHERE id = ?").run(atMs, kind, id);
  }

  setEpisodeRunbook(id: number, runbook: string): void {
    this.db.prepare('UPDATE episodes SET runbook = ? WHERE id = ?').run(runbook, id);
  }

  listEpisodes(filter: { status?: EpisodeStatus; runbook?: string; sinceMs?: number; limit?: number } = {}): EpisodeRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.runbook) {
      where.push('runbook = ?');
      args.push(filter.runbook);
    }
    if (filter.sinceMs !== undefined) {
      where.push('opened_at_ms >= ?');
      args.push(filter.sinceMs);
    }
    const sql = `SELECT * FROM episodes ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 500) as EpisodeDbRow[]).map(episodeFromRow);
  }

  countOpenEpisodes(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM episodes WHERE status = 'firing'").get() as { n: number }).n;
  }

  addDecision(d: { episodeId: number; atMs: number; runbook: string | null; decision: Decision; gate: string | null; reason: string }): number {
    const info = this.db
      .prepare('INSERT INTO decisions (episode_id, at_ms, runbook, decision, gate, reason) VALUES (?, ?, ?, ?, ?, ?)')
      .run(d.episodeId, d.atMs, d.runbook, d.decision, d.gate, d.reason);
    return Number(info.lastInsertRowid);
  }

  decisionsOf(episodeId: number): { id: number; atMs: number; runbook: string | null; decision: Decision; gate: string | null; reason: string }[] {
    return this.db
      .prepare('SELECT id, at_ms AS atMs, runbook, decision, gate, reason FROM decisions WHERE episode_id = ? ORDER BY id')
      .all(episodeId) as never[];
  }

  /** Records that an action starts, before it runs: a crash mid-action leaves it visible. */
  startAction(a: { episodeId: number; runbook: string; target: string; atMs: number }): number {
    const info = this.db
      .prepare("INSERT INTO actions (episode_id, runbook, target, started_at_ms, outcome) VALUES (?, ?, ?, ?, 'running')")
      .run(a.episodeId, a.runbook, a.target, a.atMs);
    return Number(info.lastInsertRowid);
  }

  finishAction(id: number, atMs: number, outcome: 'succeeded' | 'failed', detail: string): void {
    this.db.prepare('UPDATE actions SET finished_at_ms = ?, outcome = ?, detail = ? WHERE id = ?').run(atMs, outcome, detail, id);
  }

  actionsOf(
    episodeId: number,
  ): { id: number; runbook: string; target: string; startedAtMs: number; finishedAtMs: number | null; outcome: ActionOutcome; detail: string }[] {
    return this.db
      .prepare(
        'SELECT id, runbook, target, started_at_ms AS startedAtMs, finished_at_ms AS finishedAtMs, outcome, detail FROM actions WHERE episode_id = ? ORDER BY id',
      )
      .all(episodeId) as never[];
  }

  /**
   * After a restart: actions that were started but never finished are marked outcome_unknown.
   * They are shown, never retried by themselves (actions are at most once). Returns their ids.
   */
  markInterruptedActions(atMs: number): number[] {
    const ids = (this.db.prepare("SELECT id FROM actions WHERE outcome = 'running'").all() as { id: number }[]).map((r) => r.id);
    if (ids.length) {
      this.transaction(() => {
        for (const id of ids) {
          this.db
            .prepare(
              "UPDATE actions SET outcome = 'outcome_unknown', finished_at_ms = ?, detail = 'the receiver stopped while the action ran; not retried' WHERE id = ?",
            )
            .run(atMs, id);
          this.audit(atMs, 'action_outcome_unknown', null, { action: id });
        }
      });
    }
    return ids;
  }

  addApproval(a: { episodeId: number; runbook: string; createdAtMs: number; expiresAtMs: number }): number {
    const info = this.db
      .prepare("INSERT INTO approvals (episode_id, runbook, created_at_ms, expires_at_ms, status) VALUES (?, ?, ?, ?, 'pending')")
      .run(a.episodeId, a.runbook, a.createdAtMs, a.expiresAtMs);
    return Number(info.lastInsertRowid);
  }

  private static readonly APPROVAL_COLUMNS =
    'id, episode_id AS episodeId, runbook, created_at_ms AS createdAtMs, expires_at_ms AS expiresAtMs, status, decided_at_ms AS decidedAtMs, decided_by AS decidedBy';

  getApproval(id: number): ApprovalRow | undefined {
    return this.db.prepare(`SELECT ${ReceiverStore.APPROVAL_COLUMNS} FROM approvals WHERE id = ?`).get(id) as ApprovalRow | undefined;
  }

  listApprovals(status?: ApprovalStatus): ApprovalRow[] {
    const sql = `SELECT ${ReceiverStore.APPROVAL_COLUMNS} FROM approvals ${status ? 'WHERE status = ?' : ''} ORDER BY id`;
    return (status ? this.db.prepare(sql).all(status) : this.db.prepare(sql).all()) as ApprovalRow[];
  }

  approvalsOf(episodeId: number): ApprovalRow[] {
    return this.db.prepare(`SELECT ${ReceiverStore.APPROVAL_COLUMNS} FROM approvals WHERE episode_id = ? ORDER BY id`).all(episodeId) as ApprovalRow[];
  }

  decideApproval(id: number, status: 'approved' | 'rejected' | 'expired', atMs: number, by: string | null): void {
    this.db.prepare("UPDATE approvals SET status = ?, decided_at_ms = ?, decided_by = ? WHERE id = ? AND status = 'pending'").run(status, atMs, by, id);
  }

  /** When the runbook last started an action on the target, if ever. */
  lastActionAt(runbook: string, target: string): number | undefined {
    const r = this.db.prepare('SELECT max(started_at_ms) AS t FROM actions WHERE runbook = ? AND target = ?').get(runbook, target) as { t: number | null };
    return r.t ?? undefined;
  }

  /** Actions started since `sinceMs`, by one runbook or by all. */
  countActions(sinceMs: number, runbook?: string): number {
    const r = runbook
      ? (this.db.prepare('SELECT count(*) AS n FROM actions WHERE started_at_ms >= ? AND runbook = ?').get(sinceMs, runbook) as { n: number })
      : (this.db.prepare('SELECT count(*) AS n FROM actions WHERE started_at_ms >= ?').get(sinceMs) as { n: number });
    return r.n;
  }

  /** Distinct targets the runbook acted on since `sinceMs`. */
  actedTargets(runbook: string, sinceMs: number): string[] {
    return (this.db.prepare('SELECT DISTINCT target FROM actions WHERE runbook = ? AND started_at_ms >= ?').all(runbook, sinceMs) as { target: string }[]).map(
      (r) => r.target,
    );
  }

  episodeHasAction(episodeId: number): boolean {
    return this.db.prepare('SELECT 1 FROM actions WHERE episode_id = ? LIMIT 1').get(episodeId) !== undefined;
  }

  audit(atMs: number, kind: string, episodeId: number | null, detail: Record<string, unknown>): void {
    this.db.prepare('INSERT INTO audit (at_ms, kind, episode_id, detail_json) VALUES (?, ?, ?, ?)').run(atMs, kind, episodeId, JSON.stringify(detail));
  }

  auditOf(episodeId: number): AuditEvent[] {
    return (
      this.db.prepare('SELECT id, at_ms, kind, episode_id, detail_json FROM audit WHERE episode_id = ? ORDER BY id').all(episodeId) as {
        id: number;
        at_ms: number;
        kind: string;
        episode_id: number | null;
        detail_json: string;
      }[]
    ).map((r) => ({
      id: r.id,
      atMs: r.at_ms,
      kind: r.kind,
      episodeId: r.episode_id,
      detail: JSON.parse(r.detail_json) as Record<string, unknown>,
    }));
  }

  /** The whole audit log in order, as an iterator (JSON lines export streams it). */
  *iterateAudit(sinceMs = 0): Generator<AuditEvent> {
    for (const r of this.db.prepare('SELECT id, at_ms, kind, episode_id, detail_json FROM audit WHERE at_ms >= ? ORDER BY id').iterate(sinceMs) as Iterable<{
      id: number;
      at_ms: number;
      kind: string;
      episode_id: number | null;
      detail_json: string;
    }>) {
      yield { id: r.id, atMs: r.at_ms, kind: r.kind, episodeId: r.episode_id, detail: JSON.parse(r.detail_json) as Record<string, unknown> };
    }
  }

  close(): void {
    this.db.close();
  }
}
