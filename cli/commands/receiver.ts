import { createLogger } from '../../common/logger';
import { loadReceiverConfig } from '../../receiver/receiver-config';
import { ReceiverDaemon } from '../../receiver/receiver-daemon';
import { Command, parse, waitForSignal } from '../command';

const USAGE = `Usage: anomaly-exporter receiver [--config FILE] [--listen HOST:PORT] [--check]

  --config FILE       receiver config (default receiver/receiver.example.yml: dry run, loopback)
  --listen HOST:PORT  overrides env REMEDIATION_RECEIVER_LISTEN and listen in the file
  --check             validate the config and exit: 0 when good, 2 when not
`;

export const receiverCommand: Command = {
  summary: 'the remediation receiver: Alertmanager webhook → gates → runbooks, with an audit log',
  synopsis: ['receiver [--config FILE] [--listen HOST:PORT] [--check]'],
  async run(args) {
    const v = parse(
      args,
      { config: { type: 'string', default: 'receiver/receiver.example.yml' }, listen: { type: 'string' }, check: { type: 'boolean', default: false } },
      USAGE,
    );
    if (!v) return 0;
    const config = loadReceiverConfig(v.config as string, { listen: v.listen ?? (process.env.REMEDIATION_RECEIVER_LISTEN || undefined) });
    if (v.check) {
      process.stdout.write(`${v.config}: valid (mode ${config.mode}, ${config.runbooks.length} runbooks)\n`);
      return 0;
    }
    const logger = createLogger({ level: config.logging.level, format: config.logging.format, component: 'receiver' });
    const daemon = new ReceiverDaemon(config, logger);
    await daemon.start();
    await waitForSignal(logger, () => daemon.stop());
    return 0;
  },
};
