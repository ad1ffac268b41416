/**
 * The receiver's SQLite database (better-sqlite3) in WAL mode with synchronous=FULL, so a write
 * acknowledged to Alertmanager survives `kill -9` and power loss. The schema is versioned with
 * SQLite's `user_version`: each migration below runs once, in order, in a transaction, and a
 * database from a newer receiver is refused rather than misread.
 */
import Database from 'better-sqlite3';
import { errorMessage } from '../../common/errors';

/**
 * Migrations, oldest first; the schema version is their count. Append, never edit: a database
 * at version N runs migrations N+1 onward. Version 1 is the schema receivers before versioning
 * created (all `IF NOT EXISTS`, so it is also safe over such a database, found at version 0).
 */
const MIGRATIONS: readonly string[] = [
  `
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
`,
  // Version 2: episodes are found by the instant they started, however startsAt was written
  // (the same alert with startsAt in two time zones is one episode).
  `
CREATE INDEX IF NOT EXISTS episodes_instant ON episodes (fingerprint, starts_at_ms);
`,
  // Version 3: a resolved episode's incident analysis, fixed once its window has passed, so two
  // page loads (or a page and a notification) never tell two stories.
  `
CREATE TABLE IF NOT EXISTS analyses (
  episode_id INTEGER PRIMARY KEY REFERENCES episodes(id),
  at_ms INTEGER NOT NULL,
  analysis_json TEXT NOT NULL
);
`,
];

/** The schema version this receiver writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating if needed) the database at `path` (':memory:' for tests; its directory exists:
 * ReceiverStore makes it before taking the lock) and brings its schema up to date. `onDiskFull`
 * is told when it could only open without shared memory (see below).
 */
export function openDatabase(path: string, onDiskFull?: (error: string) => void): Database.Database {
  try {
    return configure(new Database(path), path, false);
  } catch (err) {
    if (!isDiskFull(err)) throw err;
    // WAL mode needs a shared-memory file (`-shm`) beside the database, which cannot be sized on
    // a full disk: the receiver would not start, and its episodes and audit could not be read.
    // In exclusive locking mode SQLite keeps that index in the process's memory instead, so the
    // store opens, reads work and writes fail with SQLITE_FULL (503, counted) until space is
    // freed, when they work again. Other readers of the file wait until this receiver stops.
    onDiskFull?.(errorMessage(err));
    return configure(new Database(path), path, true);
  }
}

function configure(db: Database.Database, path: string, exclusive: boolean): Database.Database {
  try {
    if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // FULL: a transaction is on disk (WAL fsynced) before commit returns, so an acknowledged
    // webhook is never lost; NORMAL could lose the last transactions on power loss.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** SQLite's and the file system's ways of saying there is no room (SQLITE_IOERR_SHMSIZE: the -shm file). */
function isDiskFull(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE' || code === 'SQLITE_IOERR_SHMOPEN' || code === 'ENOSPC';
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`store ${path} has schema version ${version}, newer than this receiver's ${SCHEMA_VERSION}: use a newer receiver or another store path`);
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
