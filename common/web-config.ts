/**
 * `--web.config.file`, in the format of Prometheus' exporter-toolkit, which every official
 * exporter reads: TLS (`tls_server_config`), extra response headers (`http_server_config`) and
 * basic auth users with bcrypt hashes (`basic_auth_users`). Relative paths are relative to the
 * web config file. The file is read at start (a bad one exits 2 naming file, field and reason)
 * and again on every config reload, so certificates and users rotate without a restart.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { createSecureContext, SecureContextOptions, TLSSocket } from 'node:tls';
import express from 'express';
import { z } from 'zod';
import { ConfigError } from './errors';
import { applySecurityHeaders } from './http-safety';
import { PasswordChecker } from './password-check';
import { formatIssues, parseYamlMapping, readConfigText } from './yaml-config';

/** exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType names). */
const CLIENT_AUTH = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;
/** A bcrypt hash as htpasswd -B and Go's bcrypt write it. */
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

const tlsVersion = z.enum(Object.keys(TLS_VERSIONS) as [TlsVersionName, ...TlsVersionName[]]);

const schema = z
  .object({
    tls_server_config: z
      .object({
        cert_file: z.string().min(1),
        key_file: z.string().min(1),
        client_auth_type: z.enum(CLIENT_AUTH).default('NoClientCert'),
        client_ca_file: z.string().min(1).optional(),
        min_version: tlsVersion.default('TLS12'),
        max_version: tlsVersion.default('TLS13'),
        client_allowed_sans: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
    http_server_config: z
      .object({
        http2: z.boolean().optional(),
        headers: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    basic_auth_users: z
      .record(
        z
          .string()
          .min(1)
          .regex(/^[^:]+$/, 'a user name must not contain ":"'),
        z.string().regex(BCRYPT, 'expected a bcrypt hash ($2y$10$…), e.g. from htpasswd -nBC 10 USER'),
      )
      .optional(),
  })
  .strict();

export interface WebConfig {
  file: string;
  tls?: {
    /** Options for https.createServer and setSecureContext, files already read. */
    context: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean };
    clientAuth: (typeof CLIENT_AUTH)[number];
    allowedSans?: string[];
  };
  headers: Record<string, string>;
  /** user → bcrypt hash; empty: no basic auth. */
  users: Record<string, string>;
}

/** Every request is authenticated by the web config itself: basic auth users, or verified client certificates. */
export function webConfigAuthenticates(web: WebConfig | undefined): boolean {
  return Boolean(web && (Object.keys(web.users).length > 0 || web.tls?.clientAuth === 'RequireAndVerifyClientCert'));
}

/** Reads and checks a web config file; a ConfigError names the file, the field and the reason. */
export function loadWebConfig(file: string): WebConfig {
  const raw = parseYamlMapping(readConfigText(file), file, 'tls_server_config, http_server_config or basic_auth_users');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(file, formatIssues(parsed.error));
  const c = parsed.data;
  const problems: { path: string; reason: string }[] = [];
  const read = (path: string, name: string): Buffer | undefined => {
    try {
      return readFileSync(resolve(dirname(file), name));
    } catch (err) {
      problems.push({ path, reason: `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return undefined;
    }
  };
  let tls: WebConfig['tls'];
  const t = c.tls_server_config;
  if (t) {
    const cert = read('tls_server_config.cert_file', t.cert_file);
    const key = read('tls_server_config.key_file', t.key_file);
    const verifies = t.client_auth_type === 'VerifyClientCertIfGiven' || t.client_auth_type === 'RequireAndVerifyClientCert';
    if (verifies && !t.client_ca_file)
      problems.push({ path: 'tls_server_config.client_ca_file', reason: `is required with client_auth_type ${t.client_auth_type}` });
    const ca = t.client_ca_file ? read('tls_server_config.client_ca_file', t.client_ca_file) : undefined;
    if (t.client_allowed_sans && !verifies)
      problems.push({ path: 'tls_server_config.client_allowed_sans', reason: 'needs a client_auth_type that verifies client certificates' });
    const order = Object.keys(TLS_VERSIONS);
    if (order.indexOf(t.min_version) > order.indexOf(t.max_version)) problems.push({ path: 'tls_server_config.min_version', reason: 'is above max_version' });
    const keyProblems = cert && key ? tlsFileProblems(cert, key, ca, Boolean(t.client_ca_file)) : [];
    problems.push(...keyProblems);
    if (cert && key && keyProblems.length === 0) {
      tls = {
        context: {
          cert,
          key,
          ca,
          minVersion: TLS_VERSIONS[t.min_version],
          maxVersion: TLS_VERSIONS[t.max_version],
          requestCert: t.client_auth_type !== 'NoClientCert',
          rejectUnauthorized: t.client_auth_type === 'RequireAndVerifyClientCert',
        },
        clientAuth: t.client_auth_type,
        allowedSans: t.client_allowed_sans,
      };
    }
  }
  if (problems.length) throw new ConfigError(file, problems);
  return { file, tls, headers: c.http_server_config?.headers ?? {}, users: c.basic_auth_users ?? {} };
}

/**
 * What OpenSSL would refuse in the certificate, key and CA, each named by its field: a daemon
 * that starts on a checked file never dies on "error:1E08010C:DECODER routines::unsupported".
 */
function tlsFileProblems(cert: Buffer, key: Buffer, ca: Buffer | undefined, hasCa: boolean): { path: string; reason: string }[] {
  const problems: { path: string; reason: string }[] = [];
  let certificate: X509Certificate | undefined;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    problems.push({ path: 'tls_server_config.cert_file', reason: `is not a PEM certificate (${opensslReason(err)})` });
  }
  let privateKey: KeyObject | undefined;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    problems.push({ path: 'tls_server_config.key_file', reason: `is not an unencrypted PEM private key (${opensslReason(err)})` });
  }
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey))
    problems.push({ path: 'tls_server_config.key_file', reason: 'does not match the certificate in cert_file' });
  if (hasCa && ca) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      problems.push({ path: 'tls_server_config.client_ca_file', reason: `is not a PEM certificate (${opensslReason(err)})` });
    }
  }
  if (problems.length === 0) {
    // Whatever else OpenSSL refuses (say a key too weak for its security level).
    try {
      createSecureContext({ cert, key, ca });
    } catch (err) {
      problems.push({ path: 'tls_server_config', reason: `certificate and key do not make a TLS context: ${opensslReason(err)}` });
    }
  }
  return problems;
}

/** OpenSSL's reason without its error-code prefix. */
function opensslReason(err: unknown): string {
  return ((err as Error).message ?? String(err)).replace(/^error:[0-9A-F]+:/i, '').trim();
}

/** Paths answered without credentials, so that Kubernetes probes need no secret (TLS still applies). */
const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/** A bcrypt hash no password matches: an unknown user costs a check too, so timing does not tell which users exist. */
const NO_USER_HASH = '$2y$10$' + 'x'.repeat(53);

/**
 * The web config's checks for every request: client certificate rules that TLS alone does not
 * enforce, the configured headers, and basic auth. Reads `current()` per request, so a reload
 * takes effect on the next one. bcrypt runs on a worker thread with a bounded queue, its
 * outcomes remembered (common/password-check.ts): wrong passwords in parallel cannot hold the
 * event loop, probes or scrapes with the right password. Refusals carry the security headers.
 */
export function webConfigGuard(current: () => WebConfig | undefined, passwords = new PasswordChecker()): express.RequestHandler {
  return (req, res, next) => {
    const web = current();
    if (!web) return next();
    // The guard answers before the app's own middleware: its refusals carry the headers too.
    applySecurityHeaders(res);
    for (const [k, v] of Object.entries(web.headers)) res.setHeader(k, v);
    const certProblem = web.tls && clientCertProblem(req.socket as TLSSocket, web.tls);
    if (certProblem) {
      res.status(403).type('text/plain').send(`${certProblem}\n`);
      return;
    }
    const users = web.users;
    if (Object.keys(users).length === 0 || PROBE_PATHS.has(req.path)) return next();
    const refuse = (reason: string) => {
      res.status(401).set('WWW-Authenticate', 'Basic realm="anomaly-exporter"').type('text/plain').send(`${reason}\n`);
    };
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return refuse('basic auth required');
    const given = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = given.indexOf(':');
    const user = colon < 0 ? given : given.slice(0, colon);
    const password = colon < 0 ? '' : given.slice(colon + 1);
    const hash = Object.prototype.hasOwnProperty.call(users, user) ? users[user] : undefined;
    passwords.check(user, password, hash ?? NO_USER_HASH).then(
      (outcome) => {
        if (outcome === 'busy') {
          res.status(429).set('Retry-After', '1').type('text/plain').send('too many password checks in progress; try again\n');
          return;
        }
        if (outcome !== 'ok' || !hash) return refuse('wrong username or password');
        res.locals.user = user;
        next();
      },
      () => refuse('wrong username or password'),
    );
  };
}

/** Why a client certificate is refused where Node's TLS layer lets it through, or undefined. */
function clientCertProblem(socket: TLSSocket, tls: NonNullable<WebConfig['tls']>): string | undefined {
  if (tls.clientAuth === 'NoClientCert' || tls.clientAuth === 'RequestClientCert') return undefined;
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  const given = cert !== undefined && Object.keys(cert).length > 0;
  if (!given) return tls.clientAuth === 'VerifyClientCertIfGiven' ? undefined : 'a client certificate is required';
  if (tls.clientAuth === 'RequireAnyClientCert') return undefined;
  if (!socket.authorized) return `client certificate refused: ${String(socket.authorizationError)}`;
  if (tls.allowedSans?.length) {
    const sans = (cert.subjectaltname ?? '').split(/,\s*/).map((s) => s.replace(/^[A-Za-z ]+:/, ''));
    if (!sans.some((s) => tls.allowedSans!.includes(s))) return 'client certificate has none of the allowed subject alternative names';
  }
  return undefined;
}
