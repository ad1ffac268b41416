import { createLogger } from '../../common/logger';
import { packageVersion } from '../../common/version';
import { loadConfig, overridesFromEnv } from '../../exporter/config/config';
import { ExporterDaemon } from '../../exporter/daemon/daemon';
import { Command, parse, waitForSignal } from '../command';

const USAGE = `Usage: anomaly-exporter run [--config FILE] [--listen HOST:PORT] [--source-url URL]

  --config FILE       config file (default anomaly-exporter.yml)
  --listen HOST:PORT  where to serve /metrics; overrides env ANOMALY_EXPORTER_LISTEN and server.listen
  --source-url URL    Prometheus-compatible API; overrides env ANOMALY_EXPORTER_SOURCE_URL and reader.url
Invalid configuration exits with code 2. SIGTERM or SIGINT stops within 5 s.
`;

export const runCommand: Command = {
  summary: 'score the configured signals on a schedule and serve /metrics',
  synopsis: ['run [--config FILE] [--listen HOST:PORT] [--source-url URL]'],
  async run(args) {
    const v = parse(args, { config: { type: 'string', default: 'anomaly-exporter.yml' }, listen: { type: 'string' }, 'source-url': { type: 'string' } }, USAGE);
    if (!v) return 0;
    const env = overridesFromEnv(process.env);
    const config = loadConfig(v.config as string, { listen: v.listen ?? env.listen, sourceUrl: v['source-url'] ?? env.sourceUrl });
    const logger = createLogger({ level: config.logging.level, format: config.logging.format, component: 'exporter' });
    const daemon = new ExporterDaemon(config, { logger, version: packageVersion() });
    await daemon.start();
    await waitForSignal(logger, () => daemon.stop());
    return 0;
  },
};
