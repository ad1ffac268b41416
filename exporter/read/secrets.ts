import { readFileSync } from 'node:fs';
import { ExporterConfig } from '../config/config';

/** Resolves reader secrets from files or environment variables (never from the config itself). */
export function resolveReaderSecrets(
  auth: ExporterConfig['reader']['auth'],
  env: NodeJS.ProcessEnv = process.env,
): { bearerToken?: string; basic?: { username: string; password: string } } {
  if (!auth) return {};
  const read = (file?: string, envName?: string, what = 'secret'): string | undefined => {
    if (file) return readFileSync(file, 'utf8').trim();
    if (envName) {
      const v = env[envName];
      if (v === undefined) throw new Error(`environment variable ${envName} (${what}) is not set`);
      return v;
    }
    return undefined;
  };
  const bearerToken = read(auth.bearer_token_file, auth.bearer_token_env, 'bearer token');
  const basic = auth.basic ? { username: auth.basic.username, password: read(auth.basic.password_file, auth.basic.password_env, 'password') ?? '' } : undefined;
  return { bearerToken, basic };
}
