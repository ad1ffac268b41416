/** The receiver process: the store, the HTTP server, the approval-expiry timer and config reloads. */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { changedFields, ConfigReloader, ReloadSource } from '../common/config-reload';
import { registerProcessMetrics } from '../common/process-metrics';
import { Logger } from '../common/logger';
import { Receiver } from './receiver';
import { parseListenAddress, listenUrl } from '../common/listen-address';
import { ConfigError } from '../common/errors';
import { WebServing } from '../common/web-server';
import { WebConfig, webConfigAuthenticates } from '../common/web-config';
import { openAuthProblem, RECEIVER_DEFAULT_HOST, ReceiverConfig } from './receiver-config';
import { AuthCheck, authCheck } from './http/request-auth';
import { createReceiverApp } from './http/receiver-app';

/** Settings a running receiver cannot change; a reload keeps their running values and says so. */
const RESTART_FIELDS = ['listen', 'store.path', 'body_limit_bytes', 'logging.format'] as const;

export class ReceiverDaemon {
  readonly registry = new Registry();
  readonly receiver: Receiver;
  readonly reloader?: ConfigReloader<ReceiverConfig>;
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private auth: AuthCheck;
  private readonly web: WebServing;

  constructor(
    config: ReceiverConfig,
    readonly log: Logger,
    private readonly reload?: ReloadSource<ReceiverConfig>,
    /** `--web.config.file`: TLS and basic auth in exporter-toolkit's format (re-read on every reload). */
    webConfigFile?: string,
  ) {
    this.web = new WebServing(webConfigFile);
    checkOneAuth(config, this.web.config);
    registerProcessMetrics(this.registry);
    this.receiver = new Receiver(config, this.registry, log);
    this.auth = authCheck(config.auth);
    if (reload) {
      this.reloader = new ConfigReloader({
        file: reload.file,
        load: reload.load,
        apply: async (next) => this.applyConfig(next),
        registry: this.registry,
        prefix: 'remediation_',
        log,
        watchIntervalMs: reload.watchIntervalMs,
      });
    }
  }

  get config(): ReceiverConfig {
    return this.receiver.config;
  }

  /**
   * Puts a validated config in place: runbooks, gates, mode, limits, auth and allowed hosts apply
   * to the next request; the store and the running actions stay. Returns the changed settings
   * that need a restart (their running values stay).
   */
  applyConfig(wanted: ReceiverConfig): string[] {
    const before = this.config;
    // The web config is checked first: a bad one fails the reload before anything changed.
    const web = this.web.prepareReload();
    const nextWeb = web.next ?? this.web.config;
    checkOneAuth(wanted, nextWeb);
    // Judged where the socket is bound, not where the new file would listen: listen needs a
    // restart, so `listen: 127.0.0.1` with `auth: none` must not open a receiver bound to 0.0.0.0.
    const bound = this.boundHost();
    const open = openAuthProblem(wanted, bound, `${bound} (the bound socket; listen needs a restart)`, webConfigAuthenticates(nextWeb));
    if (open) throw new ConfigError(this.reload?.file ?? 'receiver config', [{ path: 'auth', reason: open }]);
    const needsRestart = [...web.needsRestart, ...changedFields(before, wanted, RESTART_FIELDS)];
    const next: ReceiverConfig = {
      ...wanted,
      listen: before.listen,
      store: { ...wanted.store, path: before.store.path },
      body_limit_bytes: before.body_limit_bytes,
      logging: { ...wanted.logging, format: before.logging.format },
    };
    // Secrets are read first: an unreadable token fails the reload before anything changed.
    const auth = authCheck(next.auth);
    web.commit();
    this.receiver.reconfigure(next);
    this.auth = auth;
    this.log.level = next.logging.level;
    this.log.info('receiver config applied', { mode: next.mode, runbooks: next.runbooks.map((r) => r.name) });
    return needsRestart;
  }

  /** The host the socket is bound to (the configured one before the start). */
  private boundHost(): string {
    const address = this.server?.address();
    if (address && typeof address === 'object') return address.address;
    return parseListenAddress(this.config.listen, RECEIVER_DEFAULT_HOST).host;
  }

  /** Listens on config.listen; resolves with the URL once ready. */
  async start(): Promise<string> {
    const app = createReceiverApp(this.receiver, this.registry, {
      auth: (h) => this.auth(h),
      bodyLimitBytes: this.config.body_limit_bytes,
      reload: this.reloader && this.reload?.lifecycle ? () => this.reloader!.reload('http') : undefined,
      guard: this.web.guard(),
    });
    const { host, port: wanted } = parseListenAddress(this.config.listen, RECEIVER_DEFAULT_HOST);
    this.server = await this.web.listen(app, host, wanted, 'receiver');
    this.timer = setInterval(() => this.receiver.expireApprovalsOnTimer(), 5000);
    this.timer.unref();
    if (this.reload?.watch) this.reloader?.watch();
    const port = (this.server.address() as AddressInfo).port;
    const url = listenUrl(host, port).replace(/^http:/, `${this.web.scheme}:`);
    this.log.info('remediation receiver started', {
      url,
      mode: this.config.mode,
      runbooks: this.config.runbooks.map((r) => r.name),
      store: this.config.store.path,
    });
    return url;
  }

  async stop(): Promise<void> {
    this.reloader?.stop();
    if (this.timer) clearInterval(this.timer);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
    await this.receiver.idle();
    this.receiver.close();
  }
}

/**
 * One Authorization header cannot carry two credentials: basic auth users in the web config and
 * the receiver's own auth exclude each other.
 */
function checkOneAuth(config: ReceiverConfig, web: WebConfig | undefined): void {
  const users = Object.keys(web?.users ?? {}).length;
  if (web && users && config.auth && config.auth.type !== 'none') {
    throw new ConfigError(web.file, [
      {
        path: 'basic_auth_users',
        reason: `the receiver config also sets auth.type ${config.auth.type}: use one of them (auth: {type: none} with basic_auth_users)`,
      },
    ]);
  }
}
