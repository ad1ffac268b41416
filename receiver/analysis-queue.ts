/**
 * On-demand incident analyses (`POST /api/v1/analyze`): each request is a job that waits its turn,
 * runs with at most `concurrency` others (every analysis sends four range queries to Prometheus,
 * so a burst of requests must not become a burst of queries), and is refused when `maxPending`
 * already wait. `GET /api/v1/queue` lists what is pending and running, and the last jobs done.
 */
import { errorMessage } from '../common/errors';

export type JobState = 'pending' | 'running' | 'done' | 'failed';

export interface JobView {
  id: number;
  kind: string;
  /** What the job is about, for the queue view (e.g. the alert's labels). */
  subject: Record<string, string>;
  state: JobState;
  requested_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
}

/** The queue is full: the caller answers 429 with this reason. */
export class QueueFullError extends Error {}

interface Job<T> {
  view: JobView;
  run: () => Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export class AnalysisQueue {
  private nextId = 1;
  private readonly pending: Job<unknown>[] = [];
  private readonly running = new Set<Job<unknown>>();
  private readonly finished: JobView[] = [];

  constructor(
    readonly concurrency = 2,
    readonly maxPending = 20,
    private readonly clock: () => number = Date.now,
    /** How many finished jobs the view keeps. */
    private readonly keepFinished = 20,
  ) {}

  /** Queues `run`; resolves with its result once it has run. Throws QueueFullError at once when full. */
  submit<T>(kind: string, subject: Record<string, string>, run: () => Promise<T>): Promise<T> {
    if (this.pending.length >= this.maxPending) {
      throw new QueueFullError(`${this.pending.length} analyses are waiting already (the limit is ${this.maxPending}); try again shortly`);
    }
    return new Promise<T>((resolve, reject) => {
      const view: JobView = {
        id: this.nextId++,
        kind,
        subject,
        state: 'pending',
        requested_at: new Date(this.clock()).toISOString(),
        started_at: null,
        finished_at: null,
        error: null,
      };
      this.pending.push({ view, run, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Pending and running jobs, oldest first, and the last ones finished, newest first. */
  snapshot(): { pending: JobView[]; running: JobView[]; finished: JobView[]; concurrency: number; max_pending: number } {
    const copy = (v: JobView) => ({ ...v, subject: { ...v.subject } });
    return {
      pending: this.pending.map((j) => copy(j.view)),
      running: [...this.running].map((j) => copy(j.view)),
      finished: this.finished.map(copy),
      concurrency: this.concurrency,
      max_pending: this.maxPending,
    };
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running.add(job);
      job.view.state = 'running';
      job.view.started_at = new Date(this.clock()).toISOString();
      job
        .run()
        .then(
          (v) => {
            job.view.state = 'done';
            job.resolve(v);
          },
          (err) => {
            job.view.state = 'failed';
            job.view.error = errorMessage(err);
            job.reject(err);
          },
        )
        .finally(() => {
          job.view.finished_at = new Date(this.clock()).toISOString();
          this.running.delete(job);
          this.finished.unshift(job.view);
          this.finished.length = Math.min(this.finished.length, this.keepFinished);
          this.pump();
        });
    }
  }
}
