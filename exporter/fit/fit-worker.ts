/**
 * Worker thread body for FitPool: fits series models and group forests off the main thread, so a
 * refit of thousands of series uses every core and never blocks /metrics.
 */
import { parentPort } from 'node:worker_threads';
import { FitBatch, FitBatchResult, ForestBatch, ForestBatchResult, collectTransferables, runFitJob, runForestJob } from './fit-protocol';

const isForestBatch = (b: FitBatch | ForestBatch): b is ForestBatch => 'kind' in b && b.kind === 'forest';

parentPort?.on('message', (batch: FitBatch | ForestBatch) => {
  const result: FitBatchResult | ForestBatchResult = isForestBatch(batch)
    ? { id: batch.id, forests: batch.matrices.map((m) => runForestJob(batch.opts, m)) }
    : { id: batch.id, fits: batch.jobs.map((job) => runFitJob(batch.config, job, batch.fittedAtSeconds)) };
  parentPort?.postMessage(result, collectTransferables(result));
});
