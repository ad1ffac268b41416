/** The middleware in front of everything but /healthz and /metrics: the configured auth, or 401 with one challenge. */
import express from 'express';
import { Receiver } from '../receiver';
import { AuthCheck } from './request-auth';

export function requireAuth(receiver: Receiver, auth: AuthCheck): express.RequestHandler {
  // One challenge, of the configured scheme: browsers then ask for basic credentials themselves.
  const challenge = `${receiver.config.auth?.type === 'bearer' ? 'Bearer' : 'Basic'} realm="remediation-receiver"`;
  return (req, res, next) => {
    const r = auth(req.headers.authorization);
    if (r.ok) {
      res.locals.user = r.user;
      next();
      return;
    }
    if (req.path.startsWith('/webhook')) receiver.metrics.requests.inc({ code: '401' });
    res.status(401).set('WWW-Authenticate', challenge).json({ error: r.reason });
  };
}
