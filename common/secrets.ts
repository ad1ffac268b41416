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
    try {
      return readFileSync(source.file, 'utf8').trim();
    } catch (err) {
      throw new Error(`cannot read ${what ?? 'secret'} file ${source.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const v = source.env ? process.env[source.env] : undefined;
  if (!v) throw new Error(`environment variable ${source.env ?? '(none)'}${what ? ` (${what})` : ''} is not set`);
  return v;
}
