/**
 * What keeps other web sites away from both daemons' HTTP surfaces (docs/security.md):
 *
 * - headers on every answer: no framing (clickjacking), no MIME sniffing, a strict CSP (scripts
 *   and styles only from the daemon itself), no referrer;
 * - a Host allowlist (DNS rebinding: a page on evil.example whose name is made to resolve to
 *   127.0.0.1 sends `Host: evil.example`, so only names the operator listed, this machine's name
 *   and IP literals, which no rebinding can use, are answered);
 * - writes only from the same origin: a browser's cross-site request (a form, a no-cors fetch)
 *   carries `Sec-Fetch-Site: cross-site` or a foreign `Origin` and is refused before it acts.
 *   Clients that are not browsers (Alertmanager, curl) send neither.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import express from 'express';

/** Answered for every request whatever its Host: what Prometheus and health checks read. */
const OPEN_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sets the security headers on one answer (also what a guard that answers first uses). */
export function applySecurityHeaders(res: express.Response): void {
  res.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
}

/** Security headers on every answer. */
export function securityHeaders(): express.RequestHandler {
  return (_req, res, next) => {
    applySecurityHeaders(res);
    next();
  };
}

/** The host name of a Host header ("[::1]:80" → "::1", "Example.org:10191" → "example.org"). */
export function hostOf(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/** Names always answered: loopback names and this machine's name. IP literals are always answered too. */
export function defaultAllowedHosts(): string[] {
  return ['localhost', hostname().toLowerCase()];
}

/** Is `host` (from hostOf) one the daemon answers? */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  if (!host) return false;
  if (isIP(host)) return true;
  return allowed.some((a) => {
    const name = a.toLowerCase();
    return name.startsWith('*.') ? host.endsWith(name.slice(1)) : host === name;
  });
}

/**
 * Refuses (421, with the reason) a request whose Host is not allowed, except the open paths:
 * the defence against DNS rebinding. `extra` are the configured names (allowed_hosts).
 */
export function hostAllowlist(extra: readonly string[] | (() => readonly string[])): express.RequestHandler {
  const defaults = defaultAllowedHosts();
  const configured = typeof extra === 'function' ? extra : () => extra;
  return (req, res, next) => {
    if (OPEN_PATHS.has(req.path)) return next();
    const host = hostOf(req.headers.host);
    if (hostAllowed(host, defaults) || hostAllowed(host, configured())) return next();
    res
      .status(421)
      .type('text/plain')
      .send(`host ${JSON.stringify(host)} is not one this server answers: add it to allowed_hosts (protection against DNS rebinding)\n`);
  };
}

/** Is this request one a browser sent from another site? */
export function crossSite(req: express.Request): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site}`;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== '') {
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return `Origin ${origin}`;
    }
    if (originHost !== String(req.headers.host ?? '').toLowerCase()) return `Origin ${origin}`;
  }
  return undefined;
}

/** Refuses (403) every state-changing request (not GET, HEAD or OPTIONS) a browser sent from another site. */
export function sameOriginWrites(): express.RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const why = crossSite(req);
    if (!why) return next();
    res.status(403).json({ error: `cross-site request refused (${why}): state-changing endpoints answer only their own pages and non-browser clients` });
  };
}

/** Refuses (415) a body that is not declared application/json. */
export function jsonOnly(): express.RequestHandler {
  return (req, res, next) => {
    if (req.is('application/json')) return next();
    res.status(415).json({ error: `Content-Type must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}` });
  };
}

/**
 * A CSRF token for the daemon's own pages: random per process, embedded in each page and sent
 * back by its script in the X-CSRF-Token header. Required where a browser sends credentials by
 * itself (no auth, or basic auth it has cached).
 */
export class CsrfToken {
  readonly value = randomBytes(24).toString('base64url');

  matches(header: string | string[] | undefined): boolean {
    if (typeof header !== 'string') return false;
    const a = Buffer.from(header);
    const b = Buffer.from(this.value);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
