/** The receiver process: the store, the HTTP server and the approval-expiry timer. */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '../common/process-metrics';
import { Logger } from '../common/logger';
import { Receiver } from './receiver';
import { listenOn, parseListenAddress, listenUrl } from '../common/listen-address';
import { RECEIVER_DEFAULT_HOST, ReceiverConfig } from './receiver-config';
import { authCheck } from './http/request-auth';
import { createReceiverApp } from './http/receiver-app';

export class ReceiverDaemon {
  readonly registry = new Registry();
  readonly receiver: Receiver;
  private server?: Server;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly config: ReceiverConfig,
    readonly log: Logger,
  ) {
    registerProcessMetrics(this.registry);
    this.receiver = new Receiver(config, this.registry, log);
  }

  /** Listens on config.listen; resolves with the URL once ready. */
  async start(): Promise<string> {
    const app = createReceiverApp(this.receiver, this.registry, authCheck(this.config.auth), this.config.body_limit_bytes);
    const { host, port: wanted } = parseListenAddress(this.config.listen, RECEIVER_DEFAULT_HOST);
    this.server = await listenOn(app, host, wanted, 'receiver');
    this.timer = setInterval(() => this.receiver.expireApprovalsOnTimer(), 5000);
    this.timer.unref();
    const port = (this.server.address() as AddressInfo).port;
    const url = listenUrl(host, port);
    this.log.info('remediation receiver started', {
      url,
      mode: this.config.mode,
      runbooks: this.config.runbooks.map((r) => r.name),
      store: this.config.store.path,
    });
    return url;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
    await this.receiver.idle();
    this.receiver.close();
  }
}
