/**
 * One receiver per store: a lock file beside the database (`<path>.lock`, holding the owner's
 * pid), taken at open and removed at close. A second receiver on the same store is refused at
 * start instead of deciding against the same episodes. A lock left by a process that is gone
 * (kill -9) is taken over. Readers such as `sqlite3 .backup` are not locked out, as SQLite's
 * exclusive mode would.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';

export class StoreLock {
  private released = false;

  private constructor(readonly file: string) {}

  /** Takes the lock for the database at `path`, or throws naming the process that holds it. */
  static acquire(path: string): StoreLock {
    const file = `${path}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new StoreLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(readText(file).trim());
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

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
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
