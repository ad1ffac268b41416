/**
 * What the reader needs of the config, as the reader defines it: the config's `reader` and
 * `alertmanager` sections satisfy these shapes, so read/ depends on no config code (and so on no
 * model code through the config schema).
 */
import { readSecret, SecretSource } from '../../common/secrets';

/** Credentials as Prometheus' http_config gives them: from files or environment variables, never inline. */
export interface HttpAuth {
  bearer_token_file?: string;
  bearer_token_env?: string;
  basic?: { username: string; password_file?: string; password_env?: string };
}

/** The reader's settings (the config's `reader` section, signals aside). */
export interface ReaderSettings {
  url: string;
  /** Milliseconds. */
  timeout: number;
  retries: number;
  headers: Record<string, string>;
  accept_encoding: string;
  follow_redirects: boolean;
  max_points_per_query: number;
  max_response_bytes: number;
  max_series: number;
  auth?: HttpAuth;
}

/** A secret the config names: where it comes from and the config path that names it. */
export interface NamedSecret {
  path: string;
  source: SecretSource;
  what: string;
}

/** Where an auth section's secrets come from (`at`: its config path): checked at config load, read by readerSecrets. */
export function authSecretSources(auth: HttpAuth | undefined, at = 'reader.auth'): { token?: NamedSecret; password?: NamedSecret } {
  if (!auth) return {};
  const token: NamedSecret | undefined =
    auth.bearer_token_file || auth.bearer_token_env
      ? {
          path: auth.bearer_token_file ? `${at}.bearer_token_file` : `${at}.bearer_token_env`,
          source: { file: auth.bearer_token_file, env: auth.bearer_token_env },
          what: 'bearer token',
        }
      : undefined;
  const password: NamedSecret | undefined = auth.basic && {
    path: auth.basic.password_file ? `${at}.basic.password_file` : `${at}.basic.password_env`,
    source: { file: auth.basic.password_file, env: auth.basic.password_env },
    what: 'password',
  };
  return { token, password };
}

/** An auth section's credentials, read from their files or environment variables. */
export function readerSecrets(auth: HttpAuth | undefined): { bearerToken?: string; basic?: { username: string; password: string } } {
  const { token, password } = authSecretSources(auth);
  return {
    bearerToken: token && readSecret(token.source, token.what),
    basic: auth?.basic && password && { username: auth.basic.username, password: readSecret(password.source, password.what) },
  };
}
