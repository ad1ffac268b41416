/**
 * The receiver's durable store, by what it keeps: episodes (with their decisions), actions,
 * approvals and the audit log, over one SQLite database (see database.ts).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ActionStore } from './action-store';
import { ApprovalStore } from './approval-store';
import { AuditLog } from './audit-log';
import { openDatabase } from './database';
import { EpisodeStore } from './episode-store';
import { StoreLock } from './store-lock';

export * from './episode-store';
export * from './action-store';
export * from './approval-store';
export * from './audit-log';

export class ReceiverStore {
  readonly db: Database.Database;
  readonly episodes: EpisodeStore;
  readonly actions: ActionStore;
  readonly approvals: ApprovalStore;
  readonly auditLog: AuditLog;

  /** Opens (creating or migrating if needed) the database at `path`; ':memory:' for tests. */
  private readonly lock?: StoreLock;

  /** `onDiskFull`: the disk was full at open, see openDatabase. */
  constructor(path: string, onDiskFull?: (error: string) => void) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.lock = path === ':memory:' ? undefined : StoreLock.acquire(path);
    try {
      this.db = openDatabase(path, onDiskFull);
    } catch (err) {
      this.lock?.release();
      throw err;
    }
    this.episodes = new EpisodeStore(this.db);
    this.auditLog = new AuditLog(this.db);
    this.actions = new ActionStore(this.db, this.auditLog);
    this.approvals = new ApprovalStore(this.db);
  }

  /** Runs `fn` in one transaction: all of it is stored, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
    this.lock?.release();
  }
}
