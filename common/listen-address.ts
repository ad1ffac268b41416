/**
 * HOST:PORT listen addresses, one way for both daemons: the config schema that checks them, the
 * split into host and port (IPv6 hosts in brackets), the loopback test and the URL to print.
 */
import { z } from 'zod';

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
