import { readFileSync } from 'node:fs';

/** A secret from a file (trailing newline dropped) or an environment variable; never from config text. */
export function readSecret(source: { file?: string; env?: string }): string {
  if (source.file) {
    try {
      return readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`cannot read secret file ${source.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const v = source.env ? process.env[source.env] : undefined;
  if (!v) throw new Error(`environment variable ${source.env ?? '(none)'} is not set`);
  return v;
}
