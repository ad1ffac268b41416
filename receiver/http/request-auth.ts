import { createHash, timingSafeEqual } from 'node:crypto';
import { ReceiverConfig } from '../receiver-config';
import { readSecret } from '../../common/secrets';

/** Checks an Authorization header against the configured bearer token or basic credentials. */
export type AuthCheck = (authorization: string | undefined) => { ok: true; user: string } | { ok: false; reason: string };

/** Equal-time comparison of two strings of any length (hashes first, so lengths do not leak). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Builds the check; secrets are read once here, from their file or environment variable. */
export function authCheck(auth: ReceiverConfig['auth']): AuthCheck {
  if (!auth || auth.type === 'none') return () => ({ ok: true, user: 'anonymous' });
  if (auth.type === 'bearer') {
    const token = readSecret(auth.token!);
    return (h) => {
      if (!h) return { ok: false, reason: 'missing Authorization header (bearer token required)' };
      const m = /^Bearer (.+)$/i.exec(h);
      if (!m) return { ok: false, reason: 'expected Authorization: Bearer <token>' };
      return sameSecret(m[1], token) ? { ok: true, user: 'bearer' } : { ok: false, reason: 'wrong bearer token' };
    };
  }
  const expected = `${auth.username}:${readSecret(auth.password!)}`;
  return (h) => {
    if (!h) return { ok: false, reason: 'missing Authorization header (basic auth required)' };
    const m = /^Basic (.+)$/i.exec(h);
    if (!m) return { ok: false, reason: 'expected Authorization: Basic <credentials>' };
    const given = Buffer.from(m[1], 'base64').toString('utf8');
    return sameSecret(given, expected) ? { ok: true, user: auth.username! } : { ok: false, reason: 'wrong username or password' };
  };
}
