/**
 * Runs each signal's query once against the source (the last few steps), with the config's
 * credentials, and says what came back: `check --source` and `init` both do.
 */
import { errorMessage } from '../common/errors';
import { ExporterConfig } from '../exporter/config/config';
import { readFailureKind } from '../exporter/read/reader';
import { createReader } from '../exporter/read/reader-factory';

/** Steps of the range each query is tried on. */
export const TRY_STEPS = 5;

/** Prints one line per signal; returns how many the source refused (a query that matches nothing is only a warning). */
export async function tryQueries(
  config: ExporterConfig,
  file: string,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const reader = createReader(config.reader);
  const stepSeconds = config.scheduler.step / 1000;
  // Up to now, not to the last step boundary: a source scraped for less than a step (a new one,
  // as `init` often meets) still answers.
  const end = Math.floor(Date.now() / 1000);
  let failed = 0;
  for (const [name, s] of Object.entries(config.reader.signals)) {
    try {
      const series = await reader.queryRange(
        { signal: name, query: s.query, startSeconds: end - TRY_STEPS * stepSeconds, endSeconds: end, stepSeconds },
        AbortSignal.timeout(config.reader.timeout),
      );
      if (series.length) out.write(`${name}: ok, ${series.length} series\n`);
      else err.write(`${file}: reader.signals.${name}.query: warning: no series at ${config.reader.url} in the last ${TRY_STEPS} steps\n`);
    } catch (e) {
      failed++;
      err.write(`${file}: reader.signals.${name}.query: ${config.reader.url} refused it (${readFailureKind(e)}): ${errorMessage(e)}\n`);
    }
  }
  return failed;
}
