/** Episodes (one per alert occurrence: fingerprint + startsAt) and the decisions made for them. */
import Database from 'better-sqlite3';

export type EpisodeStatus = 'firing' | 'resolved';
/**
 * How an episode ended: recovered; source_lost (the exporter was down or stale, so the alert
 * resolved by itself: not a recovery); unverified (the source could not be checked).
 */
export type ResolveKind = 'recovered' | 'source_lost' | 'unverified';
export type Decision = 'executed' | 'dry_run' | 'awaiting_approval' | 'refused' | 'no_runbook' | 'duplicate';

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

export interface DecisionRow {
  id: number;
  atMs: number;
  runbook: string | null;
  decision: Decision;
  gate: string | null;
  reason: string;
}

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

export class EpisodeStore {
  constructor(private readonly db: Database.Database) {}

  /** The episode of an alert occurrence, or undefined. */
  /** The episode of an alert: its fingerprint and the instant it started (startsAt parsed: any time zone or precision). */
  find(fingerprint: string, startsAtMs: number): EpisodeRow | undefined {
    const r = this.db.prepare('SELECT * FROM episodes WHERE fingerprint = ? AND starts_at_ms = ? ORDER BY id LIMIT 1').get(fingerprint, startsAtMs) as
      EpisodeDbRow | undefined;
    return r && episodeFromRow(r);
  }

  get(id: number): EpisodeRow | undefined {
    const r = this.db.prepare('SELECT * FROM episodes WHERE id = ?').get(id) as EpisodeDbRow | undefined;
    return r && episodeFromRow(r);
  }

  insert(e: Omit<EpisodeRow, 'id' | 'resolvedAtMs' | 'resolveKind' | 'runbook'>): EpisodeRow {
    const info = this.db
      .prepare(
        'INSERT INTO episodes (fingerprint, starts_at, starts_at_ms, alertname, labels_json, annotations_json, status, opened_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(e.fingerprint, e.startsAt, e.startsAtMs, e.alertname, JSON.stringify(e.labels), JSON.stringify(e.annotations), e.status, e.openedAtMs);
    return this.get(Number(info.lastInsertRowid))!;
  }

  resolve(id: number, atMs: number, kind: ResolveKind): void {
    this.db.prepare("UPDATE episodes SET status = 'resolved', resolved_at_ms = ?, resolve_kind = ? WHERE id = ?").run(atMs, kind, id);
  }

  /** The analysis fixed for a resolved episode (JSON as stored), or undefined. */
  frozenAnalysis(id: number): string | undefined {
    const r = this.db.prepare('SELECT analysis_json FROM analyses WHERE episode_id = ?').get(id) as { analysis_json: string } | undefined;
    return r?.analysis_json;
  }

  /** Fixes a resolved episode's analysis; the first one stored stays. */
  freezeAnalysis(id: number, atMs: number, json: string): void {
    this.db.prepare('INSERT OR IGNORE INTO analyses (episode_id, at_ms, analysis_json) VALUES (?, ?, ?)').run(id, atMs, json);
  }

  setRunbook(id: number, runbook: string): void {
    this.db.prepare('UPDATE episodes SET runbook = ? WHERE id = ?').run(runbook, id);
  }

  list(filter: { status?: EpisodeStatus; runbook?: string; sinceMs?: number; limit?: number } = {}): EpisodeRow[] {
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

  countOpen(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM episodes WHERE status = 'firing'").get() as { n: number }).n;
  }

  addDecision(d: Omit<DecisionRow, 'id'> & { episodeId: number }): number {
    const info = this.db
      .prepare('INSERT INTO decisions (episode_id, at_ms, runbook, decision, gate, reason) VALUES (?, ?, ?, ?, ?, ?)')
      .run(d.episodeId, d.atMs, d.runbook, d.decision, d.gate, d.reason);
    return Number(info.lastInsertRowid);
  }

  decisionsOf(episodeId: number): DecisionRow[] {
    return this.db
      .prepare('SELECT id, at_ms AS atMs, runbook, decision, gate, reason FROM decisions WHERE episode_id = ? ORDER BY id')
      .all(episodeId) as DecisionRow[];
  }
}
