/**
 * The exporter process of `npm run bench:source`: the daemon as `run` starts it, but on a clock
 * set back to where the backfilled history ends (Prometheus only takes backfilled blocks older
 * than its head), advancing in real time. Usage: node source-exporter.js CONFIG CLOCK_START_MS.
 * Logs go to stderr as JSON at debug level (every "cycle done" line, for the parent to read).
 */
import { createLogger } from '../common/logger';
import { packageVersion } from '../common/version';
import { loadConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { systemClock } from '../exporter/daemon/periodic-runner';

async function main(): Promise<void> {
  const [file, startMs] = process.argv.slice(2);
  const offset = Number(startMs) - Date.now();
  const config = loadConfig(file);
  const logger = createLogger({ level: 'debug', component: 'exporter' });
  const daemon = new ExporterDaemon(config, { logger, version: packageVersion(), clock: { ...systemClock, now: () => Date.now() + offset } });
  await daemon.start();
  const stop = () => void daemon.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`source-exporter: ${(err as Error).message}\n`);
  process.exit(1);
});
