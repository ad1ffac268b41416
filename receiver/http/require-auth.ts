/** The middleware in front of everything but /healthz and /metrics: the configured auth, or 401 with one challenge. */
import express from 'express';
import { Receiver } from '../receiver';
import { AuthCheck } from './request-auth';

export function requireAuth(receiver: Receiver, auth: AuthCheck): express.RequestHandler {
  return (req, res, next) => {
    // One challenge, of the configured scheme (read per request: the config may be reloaded).
    const challenge = `${receiver.config.auth?.type === 'bearer' ? 'Bearer' : 'Basic'} realm="remediation-receiver"`;
    const r = auth(req.headers.authorization);
    if (r.ok) {
      // With auth none, the web config's basic auth user (when there is one) is who acted.
      if (!(r.user === 'anonymous' && res.locals.user)) res.locals.user = r.user;
      next();
      return;
    }
    if (req.path.startsWith('/webhook')) receiver.metrics.requests.inc({ code: '401' });
    res.status(401).set('WWW-Authenticate', challenge).json({ error: r.reason });
  };
}
