/**
 * Worker thread body for FitPool: fits series models off the main thread, so a refit of
 * thousands of series uses every core and never blocks /metrics.
 */
import { parentPort } from 'node:worker_threads';
import { FitBatch, FitBatchResult, collectTransferables, runFitJob } from './fit-protocol';

parentPort?.on('message', (batch: FitBatch) => {
  const result: FitBatchResult = { id: batch.id, fits: batch.jobs.map((job) => runFitJob(batch.config, job, batch.fittedAtSeconds)) };
  parentPort?.postMessage(result, collectTransferables(result));
});
