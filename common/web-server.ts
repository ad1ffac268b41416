/**
 * A daemon's listening socket under its `--web.config.file`: plain HTTP without one, HTTPS with
 * `tls_server_config`; the request guard (client certificates, headers, basic auth); and the
 * reload that re-reads the file, swapping certificates and users in place.
 */
import { Server } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import express from 'express';
import { listenError, listenOn } from './listen-address';
import { loadWebConfig, WebConfig, webConfigGuard } from './web-config';

export class WebServing {
  private web?: WebConfig;
  private server?: Server;

  /** Reads the file now (a ConfigError when it is bad): a daemon checks it before it starts. */
  constructor(readonly file: string | undefined) {
    this.web = file ? loadWebConfig(file) : undefined;
  }

  get config(): WebConfig | undefined {
    return this.web;
  }

  get scheme(): 'http' | 'https' {
    return this.web?.tls ? 'https' : 'http';
  }

  /** The middleware to put first in the app. */
  guard(): express.RequestHandler {
    return webConfigGuard(() => this.web);
  }

  async listen(app: express.Express, host: string, port: number, what: string): Promise<Server> {
    const tls = this.web?.tls;
    if (!tls) return (this.server = await listenOn(app, host, port, what));
    const server = createHttpsServer(tls.context, app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port, what)));
      server.listen(port, host, () => resolve());
    });
    // https.Server has every method the daemons use (address, close, closeAllConnections).
    this.server = server as unknown as Server;
    return this.server;
  }

  /**
   * Reads the file again (throws a ConfigError, changing nothing, when it is bad) and returns
   * what needs a restart, the new config and `commit`, which puts it in place: users, headers and
   * certificates apply to the next request or connection.
   */
  prepareReload(): { needsRestart: string[]; next?: WebConfig; commit: () => void } {
    if (!this.file) return { needsRestart: [], commit: () => {} };
    const next = loadWebConfig(this.file);
    const before = this.web;
    const needsRestart: string[] = [];
    if (Boolean(next.tls) !== Boolean(before?.tls)) {
      needsRestart.push(`${this.file}: tls_server_config (switching TLS on or off)`);
    } else if (next.tls && before?.tls) {
      // loadWebConfig has already made a TLS context of the files (a bad pair is a ConfigError).
      if (next.tls.clientAuth !== before.tls.clientAuth) needsRestart.push(`${this.file}: tls_server_config.client_auth_type`);
    }
    // A TLS switch waits for the restart; the rest applies now.
    const kept: WebConfig = { ...next, tls: needsRestart.length && before ? before.tls : next.tls };
    return {
      needsRestart,
      next: kept,
      commit: () => {
        if (kept.tls && before?.tls && kept.tls !== before.tls) (this.server as unknown as HttpsServer | undefined)?.setSecureContext(kept.tls.context);
        this.web = kept;
      },
    };
  }
}
