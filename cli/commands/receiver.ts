import { createLogger } from '../../common/logger';
import { loadWebConfig, webConfigAuthenticates } from '../../common/web-config';
import { loadReceiverConfig } from '../../receiver/receiver-config';
import { ReceiverDaemon } from '../../receiver/receiver-daemon';
import { Command, DAEMON_FLAGS, DAEMON_FLAGS_USAGE, parse, reloadOnSighup, waitForSignal } from '../command';

const USAGE = `Usage: anomaly-exporter receiver [--config FILE] [--listen HOST:PORT] [--check] [--web.enable-lifecycle] [--watch-config] [--web.config.file FILE]

  --config FILE       receiver config (default receiver/receiver.example.yml: dry run, loopback)
  --listen HOST:PORT  overrides env REMEDIATION_RECEIVER_LISTEN and listen in the file
  --check             validate the config and exit: 0 when good, 2 when not
${DAEMON_FLAGS_USAGE}SIGHUP reloads the config: a bad file is logged and the running config stays
(remediation_config_last_reload_successful 0).
`;

export const receiverCommand: Command = {
  summary: 'the remediation receiver: Alertmanager webhook → gates → runbooks, with an audit log',
  synopsis: ['receiver [--config FILE] [--listen HOST:PORT] [--check] [--web.enable-lifecycle] [--watch-config] [--web.config.file FILE]'],
  async run(args) {
    const v = parse(
      args,
      {
        config: { type: 'string', default: 'receiver/receiver.example.yml' },
        listen: { type: 'string' },
        check: { type: 'boolean', default: false },
        ...DAEMON_FLAGS,
      },
      USAGE,
    );
    if (!v) return 0;
    const file = v.config as string;
    // The web config is read first: its basic auth or client certificates can be the receiver's auth.
    const webFile = v['web.config.file'];
    const web = webFile !== undefined ? loadWebConfig(webFile) : undefined;
    const overrides = { listen: v.listen ?? (process.env.REMEDIATION_RECEIVER_LISTEN || undefined), webAuthenticates: webConfigAuthenticates(web) };
    const config = loadReceiverConfig(file, overrides);
    if (v.check) {
      process.stdout.write(`${v.config}: valid (mode ${config.mode}, ${config.runbooks.length} runbooks)\n`);
      return 0;
    }
    const logger = createLogger({ level: config.logging.level, format: config.logging.format, component: 'receiver' });
    const daemon = new ReceiverDaemon(
      config,
      logger,
      {
        file,
        // A reload's web config is checked by the daemon against the bound socket.
        load: () => loadReceiverConfig(file, { ...overrides, webAuthenticates: true }),
        lifecycle: v['web.enable-lifecycle'] === true,
        watch: v['watch-config'] === true,
      },
      webFile,
    );
    await daemon.start();
    reloadOnSighup(() => daemon.reloader!.reload('SIGHUP'));
    await waitForSignal(logger, () => daemon.stop());
    return 0;
  },
};
