/**
 * Every feedback mark the exporter knows, kept across polls, restarts and reshards: Alertmanager
 * forgets expired silences after its retention (5 days by default), the exporter keeps a mark for
 * `keepSeconds` after its span ends, in the state directory.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEEDBACK_KINDS, FeedbackKind } from '../../common/vocabulary';
import { FeedbackMark } from './feedback-mark';

const FILE = 'feedback.state.json';
const VERSION = 1;

export class FeedbackBook {
  private marks = new Map<string, FeedbackMark>();
  private list: readonly FeedbackMark[] = [];
  private listVersion = 0;
  /** Grows on every change, so trackers re-match only when something changed. */
  version = 0;

  constructor(private readonly onNew?: (kind: FeedbackKind) => void) {}

  get all(): readonly FeedbackMark[] {
    if (this.listVersion !== this.version) {
      this.list = Object.freeze([...this.marks.values()]);
      this.listVersion = this.version;
    }
    return this.list;
  }

  get size(): number {
    return this.marks.size;
  }

  /** Adds new marks and takes in changed ones (a silence edited or expired early); true if any changed. */
  merge(marks: readonly FeedbackMark[]): boolean {
    let changed = false;
    for (const m of marks) {
      const old = this.marks.get(m.id);
      if (old && old.fromSeconds === m.fromSeconds && old.toSeconds === m.toSeconds && old.kind === m.kind) continue;
      if (!old) this.onNew?.(m.kind);
      this.marks.set(m.id, m);
      changed = true;
    }
    if (changed) this.version++;
    return changed;
  }

  /** Forgets marks whose span ended more than keepSeconds before now. */
  prune(nowSeconds: number, keepSeconds: number): void {
    let changed = false;
    for (const [id, m] of this.marks) {
      if (m.toSeconds < nowSeconds - keepSeconds) {
        this.marks.delete(id);
        changed = true;
      }
    }
    if (changed) this.version++;
  }

  save(dir: string): void {
    const path = join(dir, FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify({ version: VERSION, marks: this.all }));
    renameSync(`${path}.tmp`, path);
  }

  /** The marks saved in `dir`; a missing file is none, an unreadable one an error naming it. */
  load(dir: string): number {
    const path = join(dir, FILE);
    if (!existsSync(path)) return 0;
    let data: { version?: unknown; marks?: unknown };
    try {
      data = JSON.parse(readFileSync(path, 'utf8')) as typeof data;
    } catch (err) {
      throw new Error(`${path}: not JSON (${(err as Error).message})`);
    }
    if (data.version !== VERSION || !Array.isArray(data.marks)) throw new Error(`${path}: not a feedback state of version ${VERSION}`);
    const marks = data.marks.filter(isMark);
    // Loaded marks are not new feedback: they were counted when they arrived.
    for (const m of marks) this.marks.set(m.id, m);
    if (marks.length) this.version++;
    return marks.length;
  }
}

function isMark(x: unknown): x is FeedbackMark {
  const m = x as FeedbackMark;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.id === 'string' &&
    (FEEDBACK_KINDS as string[]).includes(m.kind) &&
    Number.isFinite(m.fromSeconds) &&
    Number.isFinite(m.toSeconds) &&
    typeof m.exact === 'boolean' &&
    Array.isArray(m.matchers) &&
    m.matchers.every((k) => typeof k?.name === 'string' && typeof k.value === 'string')
  );
}
