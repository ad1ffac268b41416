/**
 * One receiver per store: a lock beside the database (`<path>.lock`), taken at open and removed
 * at close. A second receiver on the same store is refused at start instead of deciding against
 * the same episodes. A lock left by a process that is gone (kill -9) is taken over. Readers such
 * as `sqlite3 .backup` are not locked out, as SQLite's exclusive mode would.
 *
 * The lock is a symbolic link whose target is the owner's pid: made atomically (it fails if it
 * exists), and a short link lives in the inode, so it can be taken on a full disk, where writing a
 * pid into a new file fails (ENOSPC) and the receiver could not start to serve its read-only views.
 */
import { readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';

export class StoreLock {
  private released = false;

  private constructor(readonly file: string) {}

  /** Takes the lock for the database at `path`, or throws naming the process that holds it. */
  static acquire(path: string): StoreLock {
    const file = `${path}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        symlinkSync(String(process.pid), file);
        return new StoreLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(ownerText(file).trim());
        if (Number.isInteger(owner) && owner > 0 && alive(owner))
          throw new Error(`store ${path} is in use by another receiver (pid ${owner}, lock file ${file}): one receiver per store`);
        // Its owner is gone: take it over.
        rmSync(file, { force: true });
      }
    }
    throw new Error(`store ${path}: could not take the lock file ${file}`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    rmSync(this.file, { force: true });
  }
}

/** The pid a lock names: the link's target, or the content of a lock file from an older receiver. */
function ownerText(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
