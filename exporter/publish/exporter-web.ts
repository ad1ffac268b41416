/**
 * The exporter's listening server: bound on `server.listen` (port 0 picks a free one) with the web
 * config's TLS, the URL people reach it at, and a clean close.
 */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import express from 'express';
import { parseListenAddress } from '../../common/listen-address';
import { WebServing } from '../../common/web-server';

export class ExporterWeb {
  private server?: Server;
  private port = 0;

  constructor(readonly serving: WebServing) {}

  async listen(app: express.Express, listen: string): Promise<AddressInfo> {
    const { host, port } = parseListenAddress(listen, '0.0.0.0');
    this.server = await this.serving.listen(app, host, port, 'exporter');
    const address = this.server.address() as AddressInfo;
    this.port = address.port;
    return address;
  }

  /** server.external_url, or <scheme>://<this host's name>:<port> when it is not set. */
  externalUrl(configured: string | undefined): string {
    return configured ?? `${this.serving.scheme}://${hostname()}:${this.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
