/**
 * The receiver's config: one YAML file validated like the exporter's (unknown keys are errors;
 * `file: path: reason`, exit 2). Runbooks, their matchers and step templates are parsed here, so a
 * bad one never reaches an alert.
 */
import { z } from 'zod';
import { ConfigError } from '../common/errors';
import { secretProblems } from '../common/secrets';
import { allowedHosts, isLoopback, listenAddress, parseListenAddress } from '../common/listen-address';
import { duration, formatIssues, parseYamlMapping, readConfigText } from '../common/yaml-config';
import { LabelMatcher, parseMatcher } from './label-matcher';
import { parseTemplate, StepTemplate } from './step-template';

const listen = listenAddress('127.0.0.1:10191');
/** Where the receiver listens when the address names no host: this machine only. */
export const RECEIVER_DEFAULT_HOST = '127.0.0.1';
const matcher = z.string().transform((text, ctx) => {
  try {
    return parseMatcher(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
const template = (encoding: 'url' | 'json' | 'promql' | 'raw') =>
  z.string().transform((text, ctx) => {
    try {
      return parseTemplate(text, encoding);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
/** A secret's source: a file or an environment variable, never the config itself. */
const secretSource = { file: z.string().min(1).optional(), env: z.string().min(1).optional() };
const secret = z.strictObject(secretSource).refine((s) => Boolean(s.file) !== Boolean(s.env), { message: 'set exactly one of file and env' });
const rate = z.strictObject({ max: z.number().int().min(1), per: duration(1000) });

const httpStep = z.strictObject({
  type: z.literal('http'),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  /** Values are percent-encoded; the host must be in http_allowlist. */
  url: template('url'),
  /** A JSON body; values are JSON string literals. */
  body: template('json').optional(),
  headers: z.record(z.string(), z.string()).default({}),
  timeout: duration(1).prefault('10s'),
});
const execStep = z.strictObject({
  type: z.literal('exec'),
  /** The program and its arguments as they are: no shell, no templates. */
  argv: z.array(z.string().min(1)).min(1),
  /** Environment variables for the program: alert values reach it only here, as data (NUL becomes U+FFFD). */
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'environment variable names: A-Z, 0-9 and _'), template('raw')).default({}),
  timeout: duration(1).prefault('30s'),
});
const notifyStep = z.strictObject({
  type: z.literal('notify'),
  kind: z.enum(['slack', 'webhook']),
  url: secret,
  timeout: duration(1).prefault('10s'),
});
const logStep = z.strictObject({ type: z.literal('log'), message: z.string().default('runbook step') });
const step = z.discriminatedUnion('type', [httpStep, execStep, notifyStep, logStep]);

const runbook = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'runbook names: lower-case letters, digits, - and _'),
  /** Alertmanager-style matchers; all must match. */
  match: z.array(matcher).min(1),
  /** Only alerts with one of these severities act. */
  severities: z.array(z.string()).min(1).default(['warning', 'critical']),
  /** Per label, the values allowed to act (e.g. service: [checkout]); others are refused. */
  label_allowlist: z.record(z.string(), z.array(z.string()).min(1)).default({}),
  /** The label that names what the runbook acts on (cooldown, blast radius). */
  target_label: z.string().default('service'),
  confirm: z
    .strictObject({
      /**
       * PromQL whose value must still be above min_score at decision time; {{ labels.X }} becomes
       * a quoted PromQL string. Default: the ensemble score's 10-minute maximum for the alert's
       * service and signal.
       */
      score_query: template('promql').prefault(
        'max(max_over_time(anomaly_score{model="ensemble",service={{ labels.service }},signal={{ labels.signal }}}[10m]))',
      ),
      /** Require the score check (off: only min_anomalous_signals is checked). */
      check_score: z.boolean().default(true),
      min_score: z.number().default(1),
      /** At least this many anomalous signals for the target (anomaly_anomalous_signals). */
      min_anomalous_signals: z.number().int().min(1).optional(),
    })
    .optional(),
  cooldown: duration(0).prefault('10m'),
  rate_limit: rate.optional(),
  /** At most `max` distinct targets acted on per `per` (blast radius). */
  max_targets: rate.optional(),
  steps: z.array(step).min(1),
  /** Suggested next steps for the incident analysis and notifications. */
  annotations: z.record(z.string(), z.string()).default({}),
});

export const receiverConfigSchema = z
  .strictObject({
    listen: listen.default('127.0.0.1:10191'),
    /** dry_run (default): decide and record, never act. live: act. approval: wait for a person. */
    mode: z.enum(['dry_run', 'live', 'approval']).default('dry_run'),
    auth: z
      .strictObject({
        type: z.enum(['none', 'bearer', 'basic']),
        token: secret.optional(),
        username: z.string().optional(),
        password: secret.optional(),
      })
      .refine((a) => a.type !== 'bearer' || a.token, { message: 'bearer auth needs token: {file: ...} or {env: ...}', path: ['token'] })
      .refine((a) => a.type !== 'basic' || (a.username && a.password), { message: 'basic auth needs username and password', path: ['password'] })
      .optional(),
    body_limit_bytes: z.number().int().min(1024).default(1_048_576),
    /**
     * Host names the receiver answers besides localhost, this machine's name and IP literals
     * ("*.example.org" for a domain): a request for any other name is refused (DNS rebinding).
     */
    allowed_hosts: allowedHosts,
    /** Where people reach the receiver (behind a proxy, in a cluster): links in notifications. */
    external_url: z.url({ protocol: /^https?$/ }).optional(),
    store: z.strictObject({ path: z.string().default('./state/receiver.db') }).prefault({}),
    prometheus: z.strictObject({ url: z.url({ protocol: /^https?$/ }), timeout: duration(1).prefault('5s') }).optional(),
    /**
     * Where "not an anomaly" writes its silence (API v2): the exporter reads it back as feedback.
     * The action answers 409 when unset.
     */
    alertmanager: z
      .strictObject({
        url: z.url({ protocol: /^https?$/ }),
        timeout: duration(1).prefault('5s'),
        /**
         * How long the silence keeps the alert quiet from the click on: long enough for the
         * marked anomaly's alert to resolve (the exporter ends it at once; the rules look back 10
         * minutes), short enough that a clearly larger fault pages again soon.
         */
        silence_for: duration(60_000).prefault('15m'),
        /** Bearer token or basic auth for Alertmanager (secrets from a file or the environment). */
        bearer_token: secret.optional(),
        basic: z.strictObject({ username: z.string().min(1), password: secret }).optional(),
      })
      .refine((a) => !(a.bearer_token && a.basic), { message: 'use either bearer_token or basic, not both' })
      .optional(),
    /**
     * A resolve of an alert matching these is checked against `lost_query` in Prometheus: any
     * result means the anomaly source (the exporter) was down or stale, which is not a recovery.
     */
    source: z
      .strictObject({
        alerts: z.array(matcher).default([parseMatcher('category="anomaly"')]),
        lost_query: z
          .string()
          .default(
            'max(up{job="anomaly-exporter"}) == 0 or absent(up{job="anomaly-exporter"}) or (time() - max(anomaly_exporter_last_success_timestamp_seconds) > 3 * max(anomaly_exporter_infer_interval_seconds))',
          ),
      })
      .prefault({}),
    approvals: z.strictObject({ timeout: duration(1000).prefault('15m') }).prefault({}),
    /** The incident analysis of each episode (episode page, API, notify step). */
    analysis: z
      .strictObject({
        /** Signals are read from Prometheus this long before and after the alert started. */
        window: duration(60_000).prefault('15m'),
        /**
         * An anomaly counts as this episode's when it began at most this long before the alert
         * started and lasted until it did, or began while the episode lasted; an earlier fault that
         * ended, or anything after the resolve, is another incident's.
         */
        onset_lookback: duration(0).prefault('5m'),
        /** Alert labels that name the service (the exporter's reader.group_by). */
        group_by: z.array(z.string().min(1)).min(1).default(['service']),
        /** Optional narrative from an OpenAI-compatible chat endpoint (off when absent). */
        llm: z
          .strictObject({
            url: z.url({ protocol: /^https?$/ }),
            model: z.string().min(1),
            api_key: secret.optional(),
            timeout: duration(100).prefault('30s'),
            retries: z.number().int().min(0).max(5).default(2),
            max_tokens: z.number().int().min(16).max(4096).default(400),
          })
          .optional(),
      })
      .prefault({}),
    limits: z
      .strictObject({
        global_rate: rate.optional(),
        max_concurrent_actions: z.number().int().min(1).default(4),
      })
      .prefault({}),
    /** Windows in which no runbook acts (decisions are still recorded). */
    maintenance: z
      .array(
        z.strictObject({
          match: z.array(matcher).default([]),
          start: z.iso.datetime({ offset: true }),
          end: z.iso.datetime({ offset: true }),
          reason: z.string().default('maintenance window'),
        }),
      )
      .default([]),
    /** host:port pairs that http steps may call. */
    http_allowlist: z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, 'expected HOST:PORT')).default([]),
    runbooks: z.array(runbook).default([]),
    logging: z
      .strictObject({ level: z.enum(['error', 'warn', 'info', 'debug']).default('info'), format: z.enum(['json', 'text']).default('json') })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.runbooks.forEach((rb, i) => {
      if (names.has(rb.name)) ctx.addIssue({ code: 'custom', path: ['runbooks', i, 'name'], message: `duplicate runbook name ${rb.name}` });
      names.add(rb.name);
      rb.steps.forEach((s, j) => {
        if (s.type === 'http') {
          const host = hostOfTemplate(s.url);
          if (!host)
            ctx.addIssue({
              code: 'custom',
              path: ['runbooks', i, 'steps', j, 'url'],
              message: 'the scheme and host:port must be literal (no template before the path)',
            });
          else if (!c.http_allowlist.includes(host))
            ctx.addIssue({ code: 'custom', path: ['runbooks', i, 'steps', j, 'url'], message: `host ${host} is not in http_allowlist` });
        }
      });
      if (rb.confirm && !c.prometheus)
        ctx.addIssue({ code: 'custom', path: ['runbooks', i, 'confirm'], message: 'confirmation queries Prometheus: set prometheus.url' });
    });
    for (const [i, w] of c.maintenance.entries()) {
      if (Date.parse(w.end) <= Date.parse(w.start)) ctx.addIssue({ code: 'custom', path: ['maintenance', i, 'end'], message: 'must be after start' });
    }
  });

export type ReceiverConfig = z.output<typeof receiverConfigSchema>;
export type RunbookConfig = ReceiverConfig['runbooks'][number];
export type StepConfig = RunbookConfig['steps'][number];
export type { LabelMatcher, StepTemplate };

/** host:port of a URL template whose scheme and authority are literal text, with the default port. */
export function hostOfTemplate(t: StepTemplate): string | undefined {
  const first = t.parts[0];
  if (!first || !('text' in first)) return undefined;
  const m = /^(https?):\/\/([^/?#]+)([/?#])?/.exec(first.text);
  // Without a / ? or # after it, a placeholder could extend the host: refuse.
  if (!m || (!m[3] && t.parts.length > 1)) return undefined;
  return /:\d+$/.test(m[2]) ? m[2] : `${m[2]}:${m[1] === 'https' ? 443 : 80}`;
}

/** Reads, validates and checks every secret the config names (missing or empty files, unset variables): what --check and the start both run. */
export function loadReceiverConfig(file: string, overrides: ReceiverOverrides = {}): ReceiverConfig {
  const c = parseReceiverConfig(readConfigText(file), file, overrides);
  const problems = secretProblems([
    { path: 'auth.token', source: c.auth?.token, what: 'token' },
    { path: 'auth.password', source: c.auth?.password, what: 'password' },
    { path: 'analysis.llm.api_key', source: c.analysis.llm?.api_key, what: 'API key' },
    { path: 'alertmanager.bearer_token', source: c.alertmanager?.bearer_token, what: 'Alertmanager token' },
    { path: 'alertmanager.basic.password', source: c.alertmanager?.basic?.password, what: 'Alertmanager password' },
    ...c.runbooks.flatMap((rb, i) =>
      rb.steps.flatMap((st, j) => (st.type === 'notify' ? [{ path: `runbooks.${i}.steps.${j}.url`, source: st.url, what: 'notification URL' }] : [])),
    ),
  ]);
  if (problems.length) throw new ConfigError(file, problems);
  return c;
}

export interface ReceiverOverrides {
  listen?: string;
  /**
   * The web config (--web.config.file) authenticates every request itself (basic_auth_users, or
   * verified client certificates): then `auth: {type: none}` is safe off loopback too.
   */
  webAuthenticates?: boolean;
}

/**
 * Why `auth` leaves a receiver open to the network, or undefined. `host` is where it listens: the
 * configured address at start, the bound socket's on a reload (listen itself needs a restart).
 */
export function openAuthProblem(c: ReceiverConfig, host: string, shown: string, webAuthenticates: boolean): string | undefined {
  if (!c.auth || c.auth.type !== 'none' || webAuthenticates || isLoopback(host)) return undefined;
  return `type none is allowed only on loopback; listening on ${shown} needs bearer or basic auth, or basic_auth_users or verified client certificates in --web.config.file`;
}

export function parseReceiverConfig(text: string, file: string, overrides: ReceiverOverrides = {}): ReceiverConfig {
  const raw = parseYamlMapping(text, file, 'the receiver settings');
  if (overrides.listen) raw.listen = overrides.listen;
  const result = receiverConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error));
  const c = result.data;
  // No auth only when said explicitly, and only on loopback: an open webhook on a network could
  // trigger actions.
  if (!c.auth)
    throw new ConfigError(file, [
      { path: 'auth', reason: 'is required: {type: bearer, token: {file: ...}}, {type: basic, ...}, or {type: none} (loopback only)' },
    ]);
  const open = openAuthProblem(c, parseListenAddress(c.listen, RECEIVER_DEFAULT_HOST).host, c.listen, overrides.webAuthenticates ?? false);
  if (open) throw new ConfigError(file, [{ path: 'auth', reason: open }]);
  return c;
}
