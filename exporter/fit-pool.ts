import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SeriesModelConfig } from '../models';
import { FitBatch, FitBatchResult, FitJob, FitResult, runFitJob } from './fit-protocol';

/** Series per message: large enough to amortise messaging, small enough to balance the workers. */
const BATCH = 32;


/**
 * Fits series models on worker threads (one per core by default). Falls back to fitting on the
 * calling thread when asked for 0 workers or when the compiled worker script is not found
 * (running from TypeScript sources without a build).
 */
export class FitPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (r: FitBatchResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(size: number = availableParallelism()) {
    const script = FitPool.workerScript();
    if (!script) return;
    for (let i = 0; i < size; i++) {
      // A small heap: workers make short-lived garbage, and an uncapped heap grows lazily by hundreds of MB.
      const w = new Worker(script, { resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 } });
      w.unref();
      w.on('message', (r: FitBatchResult) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        p?.resolve(r);
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Fits every job; results come back in job order. */
  async fit(config: SeriesModelConfig, jobs: FitJob[], fittedAtSeconds: number): Promise<FitResult[]> {
    if (this.workers.length === 0 || jobs.length === 0) return jobs.map((j) => runFitJob(config, j, fittedAtSeconds));
    const batches: Promise<FitBatchResult>[] = [];
    for (let i = 0; i < jobs.length; i += BATCH) {
      const batch: FitBatch = { id: this.nextId++, config, fittedAtSeconds, jobs: jobs.slice(i, i + BATCH) };
      const worker = this.workers[this.turn++ % this.workers.length];
      batches.push(
        new Promise((resolve, reject) => {
          this.pending.set(batch.id, { resolve, reject });
          // Copies of the values go over (the caller keeps its arrays); results come back moved.
          worker.postMessage(batch);
        }),
      );
    }
    return (await Promise.all(batches)).flatMap((b) => b.fits);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  /** The compiled worker beside this file, or in dist/ when running from sources under ts-jest. */
  private static workerScript(): string | undefined {
    return [join(__dirname, 'fit-worker.js'), join(__dirname, '..', 'dist', 'exporter', 'fit-worker.js')].find((p) => existsSync(p));
  }
}
