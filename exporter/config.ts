import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { ConfigError } from '../common/errors';
import { configSchema, ExporterConfig } from './config-schema';

export type { ExporterConfig, SignalConfig } from './config-schema';

/** Command-line and environment overrides: flag over env over file. */
export interface ConfigOverrides {
  listen?: string;
  sourceUrl?: string;
}

export function overridesFromEnv(env: NodeJS.ProcessEnv): ConfigOverrides {
  return { listen: env.ANOMALY_EXPORTER_LISTEN || undefined, sourceUrl: env.ANOMALY_EXPORTER_SOURCE_URL || undefined };
}

/** Reads, parses and validates a config file; every problem becomes `file: path: reason`. */
export function loadConfig(file: string, overrides: ConfigOverrides = {}): ExporterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', reason: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parseConfig(text, file, overrides);
}

export function parseConfig(text: string, file: string, overrides: ConfigOverrides = {}): ExporterConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(file, [{ path: '', reason: `not valid YAML: ${(err as Error).message.split('\n')[0]}` }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', reason: 'expected a YAML mapping with at least a reader section' }]);
  }
  const withOverrides = applyOverrides(raw as Record<string, unknown>, overrides);
  const result = configSchema.safeParse(withOverrides);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error));
  const config = result.data;
  const problems = crossFieldProblems(config);
  if (problems.length) throw new ConfigError(file, problems);
  return config;
}

function applyOverrides(raw: Record<string, unknown>, o: ConfigOverrides): Record<string, unknown> {
  const copy = structuredClone(raw);
  if (o.sourceUrl) copy.reader = { ...((copy.reader as object) ?? {}), url: o.sourceUrl };
  if (o.listen) copy.server = { ...((copy.server as object) ?? {}), listen: o.listen };
  return copy;
}

function formatIssues(error: z.ZodError): { path: string; reason: string }[] {
  const out: { path: string; reason: string }[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: path ? `${path}.${key}` : key, reason: 'unknown key' });
    } else if (issue.code === 'invalid_key') {
      // Record keys (signal names) carry their own validation message one level down.
      out.push({ path, reason: issue.issues[0]?.message ?? issue.message });
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      out.push({ path, reason: 'is required' });
    } else {
      out.push({ path, reason: issue.message });
    }
  }
  return out;
}

function crossFieldProblems(c: ExporterConfig): { path: string; reason: string }[] {
  const p: { path: string; reason: string }[] = [];
  const s = c.scheduler;
  if (s.fit_window < s.step * 2) p.push({ path: 'scheduler.fit_window', reason: 'must cover at least two steps' });
  if (s.infer_every < s.step) p.push({ path: 'scheduler.infer_every', reason: 'must be at least one step (scoring more often than new points arrive does nothing)' });
  if (s.fit_every < s.infer_every) p.push({ path: 'scheduler.fit_every', reason: 'must be at least infer_every' });
  if (s.cycle_timeout !== undefined && s.cycle_timeout > s.infer_every) p.push({ path: 'scheduler.cycle_timeout', reason: 'must not exceed infer_every (runs never overlap)' });
  try {
    new Intl.DateTimeFormat('en', { timeZone: s.timezone });
  } catch {
    p.push({ path: 'scheduler.timezone', reason: `unknown IANA time zone "${s.timezone}"` });
  }
  if (s.fit_cron !== undefined && !validateCron(s.fit_cron)) {
    p.push({ path: 'scheduler.fit_cron', reason: 'expected a cron expression with 5 or 6 fields, e.g. "0 3 * * *"' });
  }
  return p;
}
