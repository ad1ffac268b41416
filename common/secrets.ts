/**
 * Secrets come only from files or environment variables, never from config text, and are never
 * logged. A file's content is trimmed of surrounding white space (as Prometheus does for its
 * `*_file` settings), so a trailing newline from `echo` or a Kubernetes secret never becomes part
 * of a token.
 */
import { readFileSync } from 'node:fs';

export interface SecretSource {
  file?: string;
  env?: string;
}

/** The secret, or an error that names where it was looked for (never the value). */
export function readSecret(source: SecretSource, what?: string): string {
  if (source.file) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8').trim();
    } catch (err) {
      throw new Error(`cannot read ${what ?? 'secret'} file ${source.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    // An empty token would be compared against, or sent, as an empty credential.
    if (text === '') throw new Error(`${what ?? 'secret'} file ${source.file} is empty`);
    return text;
  }
  const v = source.env ? process.env[source.env] : undefined;
  if (!v) throw new Error(`environment variable ${source.env ?? '(none)'}${what ? ` (${what})` : ''} is not set`);
  return v;
}

/**
 * The problem with each secret a config names, as config problems (path: reason), so that a config
 * check fails on what the start would fail on: a missing or empty file, an unset variable.
 */
export function secretProblems(secrets: readonly { path: string; source: SecretSource | undefined; what?: string }[]): { path: string; reason: string }[] {
  const out: { path: string; reason: string }[] = [];
  for (const { path, source, what } of secrets) {
    if (!source) continue;
    try {
      readSecret(source, what);
    } catch (err) {
      out.push({ path, reason: (err as Error).message });
    }
  }
  return out;
}
