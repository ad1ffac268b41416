/**
 * HOST:PORT listen addresses, one way for both daemons: the config schema that checks them, the
 * split into host and port (IPv6 hosts in brackets), the loopback test and the URL to print.
 */
import { createServer, RequestListener, Server } from 'node:http';
import { z } from 'zod';

/**
 * Host names a daemon answers besides localhost, this machine's name and IP literals
 * ("*.example.org" for a domain): see common/http-safety.ts (DNS rebinding).
 */
export const allowedHosts = z.array(z.string().regex(/^(\*\.)?[A-Za-z0-9.-]+$/, 'a host name, or *.domain')).default([]);

/** A HOST:PORT to listen on (IPv6 hosts in brackets; an empty host takes the daemon's default). */
export const listenAddress = (example: string) => z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, `expected HOST:PORT, e.g. ${example}`);

export interface ListenAddress {
  /** Without brackets. */
  host: string;
  port: number;
}

/** Splits a checked HOST:PORT; an empty host is `defaultHost`. */
export function parseListenAddress(listen: string, defaultHost: string): ListenAddress {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, '') || defaultHost, port: Number(listen.slice(i + 1)) };
}

/** Only this machine can connect. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The http URL of a listening address. */
export function listenUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** What a listen error means, in words (the code stays in the message). */
const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process listens there)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: "the address is not one of this machine's",
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
};

/**
 * Starts an HTTP server for `handler` on host:port; resolves once it listens, or rejects with an
 * error naming the address and the reason (express 5's app.listen calls back on errors too, so a
 * failure looked like a start and ended in "Cannot read properties of null").
 */
export function listenOn(handler: RequestListener, host: string, port: number, what: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port, what)));
    server.listen(port, host, () => resolve(server));
  });
}

/** A listen failure as an error naming the address and the reason. */
export function listenError(err: NodeJS.ErrnoException, host: string, port: number, what: string): Error {
  const reason = (err.code && LISTEN_REASONS[err.code]) ?? err.message;
  return new Error(`${what} cannot listen on ${listenUrl(host, port).slice('http://'.length)}: ${reason}${err.code ? ` (${err.code})` : ''}`);
}
