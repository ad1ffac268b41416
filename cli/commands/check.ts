import { loadConfig } from '../../exporter/config/config';
import { loadWebConfig } from '../../common/web-config';
import { Command, parse } from '../command';
import { tryQueries } from '../try-queries';

const USAGE = `Usage: anomaly-exporter check [--config FILE] [--source URL] [--web.config.file FILE]

Validates FILE (default anomaly-exporter.yml), every query's PromQL syntax included. Exit 0:
valid. Exit 2: each problem printed as FILE: path.to.field: reason.

  --source URL  also runs each signal's query once against this Prometheus-compatible API (the
                last five steps), with the config's credentials: a query the source refuses is a
                problem (exit 2); one that matches no series is a warning.
  --web.config.file FILE  also validates this web config (TLS files readable, bcrypt hashes)
`;

export const checkCommand: Command = {
  summary: 'validate a config file (and with --source, run each query once): exit 0 when good, 2 when not (errors on stderr)',
  synopsis: ['check [--config FILE] [--source URL] [--web.config.file FILE]'],
  async run(args) {
    const v = parse(
      args,
      { config: { type: 'string', default: 'anomaly-exporter.yml' }, source: { type: 'string' }, 'web.config.file': { type: 'string' } },
      USAGE,
    );
    if (!v) return 0;
    const file = v.config as string;
    const config = loadConfig(file, { sourceUrl: v.source, hostname: process.env.HOSTNAME || undefined });
    const webFile = v['web.config.file'];
    if (webFile !== undefined) {
      const web = loadWebConfig(webFile);
      process.stdout.write(`${webFile}: valid (${web.tls ? 'TLS' : 'plain HTTP'}, ${Object.keys(web.users).length} basic auth users)\n`);
    }
    const signals = Object.keys(config.reader.signals);
    process.stdout.write(`${file}: valid (${signals.length} signals: ${signals.join(', ')})\n`);
    if (v.source === undefined) return 0;
    const failed = await tryQueries(config, file);
    return failed ? 2 : 0;
  },
};
