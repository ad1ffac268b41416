/**
 * Worker thread body for FitPool: fits series models and group forests off the main thread, so a
 * refit of thousands of series uses every core and never blocks /metrics.
 */
import { parentPort } from 'node:worker_threads';
import { FitBatch, FitBatchResult, ForestBatch, ForestBatchResult, collectTransferables, runFitJob, runForestJob } from './fit-protocol';

parentPort?.on('message', (batch: FitBatch | ForestBatch) => {
  const result: FitBatchResult | ForestBatchResult =
    'kind' in batch && batch.kind === 'forest'
      ? { id: batch.id, forests: batch.matrices.map((m) => runForestJob(batch.opts, m)) }
      : { id: batch.id, fits: (batch as FitBatch).jobs.map((job) => runFitJob((batch as FitBatch).config, job, (batch as FitBatch).fittedAtSeconds)) };
  parentPort?.postMessage(result, collectTransferables(result));
});
