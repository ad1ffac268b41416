import { createLogger } from '../../common/logger';
import { packageVersion } from '../../common/version';
import { loadConfig, overridesFromEnv } from '../../exporter/config/config';
import { ExporterDaemon } from '../../exporter/daemon/daemon';
import { Command, DAEMON_FLAGS, DAEMON_FLAGS_USAGE, parse, reloadOnSighup, waitForSignal } from '../command';

const USAGE = `Usage: anomaly-exporter run [--config FILE] [--listen HOST:PORT] [--source-url URL] [--shard INDEX/COUNT] [--web.enable-lifecycle] [--watch-config] [--web.config.file FILE]

  --config FILE       config file (default anomaly-exporter.yml)
  --listen HOST:PORT  where to serve /metrics; overrides env ANOMALY_EXPORTER_LISTEN and server.listen
  --source-url URL    Prometheus-compatible API; overrides env ANOMALY_EXPORTER_SOURCE_URL and reader.url
  --shard INDEX/COUNT score only this replica's share of the groups (e.g. 0/3); overrides sharding.
                      With sharding.count alone, the index is a StatefulSet pod's ordinal (HOSTNAME -N)
${DAEMON_FLAGS_USAGE}Invalid configuration exits with code 2. SIGTERM or SIGINT stops within 5 s. SIGHUP reloads the
config: a bad file is logged and the running config stays (anomaly_exporter_config_last_reload_successful 0).
`;

export const runCommand: Command = {
  summary: 'score the configured signals on a schedule and serve /metrics',
  synopsis: [
    'run [--config FILE] [--listen HOST:PORT] [--source-url URL] [--shard INDEX/COUNT] [--web.enable-lifecycle] [--watch-config] [--web.config.file FILE]',
  ],
  async run(args) {
    const v = parse(
      args,
      {
        config: { type: 'string', default: 'anomaly-exporter.yml' },
        listen: { type: 'string' },
        'source-url': { type: 'string' },
        shard: { type: 'string' },
        ...DAEMON_FLAGS,
      },
      USAGE,
    );
    if (!v) return 0;
    const env = overridesFromEnv(process.env);
    const file = v.config as string;
    const overrides = { ...env, listen: v.listen ?? env.listen, sourceUrl: v['source-url'] ?? env.sourceUrl, shard: v.shard as string | undefined };
    const config = loadConfig(file, overrides);
    const logger = createLogger({ level: config.logging.level, format: config.logging.format, component: 'exporter' });
    const daemon = new ExporterDaemon(config, {
      logger,
      version: packageVersion(),
      reload: { file, load: () => loadConfig(file, overrides), lifecycle: v['web.enable-lifecycle'] === true, watch: v['watch-config'] === true },
      webConfigFile: v['web.config.file'],
    });
    await daemon.start();
    reloadOnSighup(() => daemon.reloader!.reload('SIGHUP'));
    await waitForSignal(logger, () => daemon.stop());
    return 0;
  },
};
