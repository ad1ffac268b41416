import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CalibratedForestOptions, FeatureMatrix, SeriesModelConfig } from '../../models';
import { FitBatch, FitBatchResult, FitJob, FitResult, ForestBatch, ForestBatchResult, ForestResult, runFitJob, runForestJob } from './fit-protocol';

/** Series per message: large enough to amortise messaging, small enough to balance the workers. */
const BATCH = 32;
/** Group forests per message (each a few ms to fit at 512 rows). */
const FOREST_BATCH = 16;

/** How long idle workers are kept before they are stopped (their heaps go back to the system). */
const DEFAULT_IDLE_MS = 5_000;

/**
 * Starts the TypeScript worker when the pool itself runs from sources (ts-jest, no build): each
 * file the worker requires is transpiled with the project's own compiler as it loads.
 */
const FROM_SOURCES = `
const { createRequire } = require('node:module');
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const ts = createRequire(workerData.entry)('typescript');
const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(readFileSync(file, 'utf8'), { fileName: file, compilerOptions: options }).outputText, file);
require(workerData.entry);
`;

/** What a worker runs: the compiled script, or the TypeScript source through FROM_SOURCES. */
interface WorkerScript {
  file: string;
  fromSources: boolean;
}

interface Pending {
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * Fits series models on worker threads (one per core by default). Falls back to fitting on the
 * calling thread when asked for 0 workers. From TypeScript sources (tests, no build) the workers
 * run the TypeScript worker, transpiled as it loads.
 *
 * Workers start with the first fit and stop after `idleMs` without work: refits come every
 * `fit_every` (an hour by default), and between them idle worker heaps would hold a few hundred
 * MB of resident memory at 10,000 series for nothing. Starting a worker takes about 30 ms.
 */
export class FitPool {
  private readonly script?: WorkerScript;
  private workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private turn = 0;
  private idleTimer?: NodeJS.Timeout;
  private started = 0;

  constructor(
    private readonly threads: number = availableParallelism(),
    private readonly idleMs: number = DEFAULT_IDLE_MS,
  ) {
    this.script = threads > 0 ? FitPool.workerScript() : undefined;
  }

  /** Worker threads a fit runs on (0: the calling thread). */
  get size(): number {
    return this.script ? this.threads : 0;
  }

  /** Workers running now (0 while idle). */
  get running(): number {
    return this.workers.length;
  }

  /** Workers started since this pool was made (each idle stop and restart counts again). */
  get startedWorkers(): number {
    return this.started;
  }

  /** Fits every job; results come back in job order. */
  async fit(config: SeriesModelConfig, jobs: FitJob[], fittedAtSeconds: number): Promise<FitResult[]> {
    if (this.size === 0 || jobs.length === 0) return jobs.map((j) => runFitJob(config, j, fittedAtSeconds));
    const batches: FitBatch[] = [];
    for (let i = 0; i < jobs.length; i += BATCH) batches.push({ id: this.nextId++, config, fittedAtSeconds, jobs: jobs.slice(i, i + BATCH) });
    return (await this.dispatch<FitBatchResult>(batches)).flatMap((b) => b.fits);
  }

  /**
   * Fits group forests (copies of the matrices go over); results in matrix order. On the calling
   * thread when the pool has no workers.
   */
  async fitForests(opts: CalibratedForestOptions, matrices: FeatureMatrix[]): Promise<ForestResult[]> {
    if (this.size === 0 || matrices.length === 0) return matrices.map((m) => runForestJob(opts, m));
    const batches: ForestBatch[] = [];
    for (let i = 0; i < matrices.length; i += FOREST_BATCH)
      batches.push({ id: this.nextId++, kind: 'forest', opts, matrices: matrices.slice(i, i + FOREST_BATCH) });
    return (await this.dispatch<ForestBatchResult>(batches)).flatMap((b) => b.forests);
  }

  /** Hands the batches to the workers in turn; their results in batch order. */
  private async dispatch<R>(batches: (FitBatch | ForestBatch)[]): Promise<R[]> {
    this.ensureWorkers();
    const results = batches.map(
      (batch) =>
        new Promise<R>((resolve, reject) => {
          this.pending.set(batch.id, { resolve: resolve as (r: unknown) => void, reject });
          // Copies of the values go over (the caller keeps its arrays); results come back moved.
          this.workers[this.turn++ % this.workers.length].postMessage(batch);
        }),
    );
    try {
      return await Promise.all(results);
    } finally {
      this.armIdleTimer();
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    await this.stopWorkers();
  }

  private ensureWorkers(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    while (this.workers.length < this.threads) {
      // A small heap: workers make short-lived garbage, and an uncapped heap grows lazily by hundreds of MB.
      const script = this.script!;
      const resourceLimits = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 };
      const w = script.fromSources
        ? new Worker(FROM_SOURCES, { eval: true, workerData: { entry: script.file }, resourceLimits })
        : new Worker(script.file, { resourceLimits });
      w.unref();
      w.on('message', (r: { id: number }) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        p?.resolve(r);
      });
      w.on('error', (err) => this.failAll(w, err));
      w.on('exit', (code) => {
        // An exit we did not ask for (out of memory, say) fails what is in flight; the next fit starts a new worker.
        if (this.workers.includes(w)) this.failAll(w, new Error(`fit worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.started++;
    }
  }

  private failAll(worker: Worker, err: Error): void {
    this.workers = this.workers.filter((w) => w !== worker);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private armIdleTimer(): void {
    if (this.pending.size > 0 || this.workers.length === 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0) void this.stopWorkers();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private async stopWorkers(): Promise<void> {
    const stopping = this.workers;
    this.workers = [];
    await Promise.all(stopping.map((w) => w.terminate()));
  }

  /** The compiled worker beside this file, or its TypeScript source when this file runs from sources. */
  private static workerScript(): WorkerScript | undefined {
    const compiled = join(__dirname, 'fit-worker.js');
    if (existsSync(compiled)) return { file: compiled, fromSources: false };
    const source = join(__dirname, 'fit-worker.ts');
    if (__filename.endsWith('.ts') && existsSync(source)) return { file: source, fromSources: true };
    return undefined;
  }
}
