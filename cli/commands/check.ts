import { loadConfig } from '../../exporter/config/config';
import { Command, parse } from '../command';

const USAGE = `Usage: anomaly-exporter check [--config FILE]

Validates FILE (default anomaly-exporter.yml). Exit 0: valid. Exit 2: each problem printed as
FILE: path.to.field: reason.
`;

export const checkCommand: Command = {
  summary: 'validate a config file: exit 0 when good, 2 when not (errors on stderr)',
  synopsis: ['check [--config FILE]'],
  async run(args) {
    const v = parse(args, { config: { type: 'string', default: 'anomaly-exporter.yml' } }, USAGE);
    if (!v) return 0;
    const config = loadConfig(v.config as string);
    const signals = Object.keys(config.reader.signals);
    process.stdout.write(`${v.config}: valid (${signals.length} signals: ${signals.join(', ')})\n`);
    return 0;
  },
};
