import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_VERSION } from './database';
import { ReceiverStore } from './receiver-store';

describe('receiver store schema', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ae-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a new store at the current schema version', () => {
    const store = new ReceiverStore(join(dir, 'r.db'));
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    store.close();
  });

  it('takes over a store written before schema versions, keeping its episodes and audit log', () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    // The tables as the first receivers created them, with user_version left at 0.
    old.exec(`CREATE TABLE episodes (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, starts_at TEXT NOT NULL, starts_at_ms INTEGER NOT NULL,
      alertname TEXT NOT NULL, labels_json TEXT NOT NULL, annotations_json TEXT NOT NULL, status TEXT NOT NULL, opened_at_ms INTEGER NOT NULL,
      resolved_at_ms INTEGER, resolve_kind TEXT, runbook TEXT, UNIQUE (fingerprint, starts_at));
      CREATE TABLE audit (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, kind TEXT NOT NULL, episode_id INTEGER, detail_json TEXT NOT NULL);
      INSERT INTO episodes VALUES (1, 'ab', '2026-01-01T00:00:00Z', 0, 'A', '{}', '{}', 'firing', 0, NULL, NULL, NULL);
      INSERT INTO audit VALUES (1, 0, 'episode_opened', 1, '{}');`);
    old.close();
    const store = new ReceiverStore(path);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.episodes.find('ab', 0)?.id).toBe(1);
    expect([...store.auditLog.iterate()].map((e) => e.kind)).toEqual(['episode_opened']);
    store.actions.start({ episodeId: 1, runbook: 'restart', target: 'checkout', atMs: 1 });
    expect(store.actions.episodeHasAny(1)).toBe(true);
    store.close();
  });

  it('refuses a second receiver on the same store while the first has it open', () => {
    const path = join(dir, 'shared.db');
    const first = new ReceiverStore(path);
    expect(() => new ReceiverStore(path)).toThrow(
      `store ${path} is in use by another receiver (pid ${process.pid}, lock file ${path}.lock): one receiver per store`,
    );
    // A reader (a backup, say) is not locked out.
    const reader = new Database(path, { readonly: true });
    expect((reader.prepare('SELECT count(*) AS n FROM episodes').get() as { n: number }).n).toBe(0);
    reader.close();
    first.close();
    // Closed: the store opens again; a lock left by a process that is gone is taken over.
    new ReceiverStore(path).close();
    writeFileSync(`${path}.lock`, '999999999\n');
    new ReceiverStore(path).close();
  });

  it('refuses a store from a newer receiver, naming both versions', () => {
    const path = join(dir, 'new.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new ReceiverStore(path)).toThrow(`schema version ${SCHEMA_VERSION + 1}, newer than this receiver's ${SCHEMA_VERSION}`);
  });
});
