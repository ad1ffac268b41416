/**
 * bcrypt checks of basic auth passwords, kept off the event loop. bcryptjs is pure JavaScript:
 * one check at cost 10 holds the thread for ~80 ms, so 40 wrong passwords in parallel held
 * /healthz and every scrape for seconds. Here:
 * - checks run on one worker thread, one at a time (the event loop only passes messages);
 * - at most MAX_WAITING checks wait; past that a check is refused at once as `busy` (the guard
 *   answers 429), so a flood of guesses costs a bounded queue, never memory or the main thread;
 * - outcomes are remembered, as exporter-toolkit does, keyed by a SHA-256 of user, password and
 *   hash (never the password in clear): a known good password costs nothing, and a repeated
 *   wrong one costs no bcrypt either. Good and bad outcomes are kept apart, so guesses cannot
 *   push a good one out.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** Checks waiting for the worker, past the one it runs. */
export const MAX_WAITING = 16;
/** Outcomes remembered of each kind (good, bad). */
const CACHE_SIZE = 1000;

export type PasswordOutcome = 'ok' | 'wrong' | 'busy';

/** The worker: bcryptjs' compareSync, one message at a time. Plain JavaScript, so it runs from sources and from dist alike. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcrypt);
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});
`;

/** How a waiting check is answered; undefined: the worker died before it answered. */
type Waiting = (ok: boolean | undefined) => void;

export class PasswordChecker {
  private worker?: Worker;
  private readonly pending = new Map<number, Waiting>();
  private nextId = 0;
  private readonly good = new Map<string, true>();
  private readonly bad = new Map<string, true>();

  /** Whether `password` matches the bcrypt `hash`; `busy` when too many checks already wait. */
  async check(user: string, password: string, hash: string): Promise<PasswordOutcome> {
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    if (this.good.has(key)) return 'ok';
    if (this.bad.has(key)) return 'wrong';
    if (this.pending.size > MAX_WAITING) return 'busy';
    const ok = await this.compare(password, hash);
    if (ok === undefined) return 'busy';
    remember(ok ? this.good : this.bad, key);
    return ok ? 'ok' : 'wrong';
  }

  /** Stops the worker (a new one starts with the next check). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private compare(password: string, hash: string): Promise<boolean | undefined> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.pending.set(id, resolve);
      this.ensureWorker().postMessage({ id, password, hash });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER, { eval: true, workerData: { bcrypt: require.resolve('bcryptjs') } });
    // Never what keeps a process alive: a daemon has its server, a command its own work.
    w.unref();
    w.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.(ok === true);
    });
    // A worker that dies refuses what waited (a check never hangs); the next check starts another.
    const fail = () => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p(undefined);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    return w;
  }
}

function remember(cache: Map<string, true>, key: string): void {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, true);
}
