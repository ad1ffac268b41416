/**
 * One YAML config file, validated by a zod schema: every problem becomes `file: path: reason`
 * (ConfigError; the CLI exits with code 2). Shared by the exporter's and the receiver's configs.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDurationMs } from './duration';
import { ConfigError } from './errors';

/** A Prometheus duration string ("30s", "1h30m"), parsed to milliseconds. */
export const duration = (min = 0) =>
  z.string().transform((text, ctx) => {
    try {
      const ms = parseDurationMs(text);
      if (ms < min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${min / 1000}s` });
        return z.NEVER;
      }
      return ms;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

/** Reads a file's text, or a ConfigError naming it. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', reason: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
}

/** Parses YAML text to a mapping (duplicate keys are errors), or a ConfigError. */
export function parseYamlMapping(text: string, file: string, what: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(file, [{ path: '', reason: `not valid YAML: ${(err as Error).message.split('\n')[0]}` }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(file, [{ path: '', reason: `expected a YAML mapping with ${what}` }]);
  return raw as Record<string, unknown>;
}

/** zod issues as `path: reason` pairs, one per unknown key. */
export function formatIssues(error: z.ZodError): { path: string; reason: string }[] {
  const out: { path: string; reason: string }[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: path ? `${path}.${key}` : key, reason: 'unknown key' });
    } else if (issue.code === 'invalid_key') {
      // Record keys carry their own validation message one level down.
      out.push({ path, reason: issue.issues[0]?.message ?? issue.message });
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      out.push({ path, reason: 'is required' });
    } else {
      out.push({ path, reason: issue.message });
    }
  }
  return out;
}
