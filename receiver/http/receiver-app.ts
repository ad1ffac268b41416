/**
 * The receiver's HTTP surface (express), one router per concern: the Alertmanager webhook, the
 * episode and audit API, approvals and the web pages, all behind the configured auth; /metrics
 * and /healthz open, as for every exporter.
 */
import express from 'express';
import { CsrfToken, hostAllowlist, securityHeaders, sameOriginWrites } from '../../common/http-safety';
import { Registry } from 'prom-client';
import { ReloadResult } from '../../common/config-reload';
import { lifecycleRouter } from '../../common/lifecycle-router';
import { Receiver } from '../receiver';
import { approvalsRouter } from './approvals-router';
import { analyzeRouter } from './analyze-router';
import { episodesRouter } from './episodes-router';
import { feedbackRouter } from './feedback-router';
import { pagesRouter } from './pages-router';
import { AuthCheck } from './request-auth';
import { requireAuth } from './require-auth';
import { webhookRouter } from './webhook-router';

export interface ReceiverAppOptions {
  /** The configured auth (a function of the current config: reloadable). */
  auth: AuthCheck;
  bodyLimitBytes: number;
  /** Serves `POST /-/reload`, behind the auth, when given (`--web.enable-lifecycle`). */
  reload?: () => Promise<ReloadResult>;
  /** The web config's guard (client certificates, basic auth), first in line. */
  guard?: express.RequestHandler;
}

export function createReceiverApp(receiver: Receiver, registry: Registry, opts: ReceiverAppOptions): express.Express {
  const { auth, bodyLimitBytes } = opts;
  const app = express();
  app.disable('x-powered-by');
  const authenticated = requireAuth(receiver, auth);
  // Browsers send no-auth and cached basic credentials by themselves: those need the CSRF token.
  const csrf = new CsrfToken();
  const csrfOf = () => (receiver.config.auth?.type !== 'bearer' ? csrf : undefined);
  if (opts.guard) app.use(opts.guard);
  app.use(securityHeaders());
  app.use(hostAllowlist(() => receiver.config.allowed_hosts));
  app.use(sameOriginWrites());
  app.use(lifecycleRouter(opts.reload, authenticated));

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(webhookRouter(receiver, authenticated, bodyLimitBytes));
  app.use(pagesRouter(receiver, authenticated, csrf));
  app.use(episodesRouter(receiver, authenticated));
  app.use(analyzeRouter(receiver, authenticated));
  app.use(approvalsRouter(receiver, authenticated, csrfOf));
  app.use(feedbackRouter(receiver, authenticated, csrfOf));

  // Body parser errors: too large (413) or not JSON (400); a reason, and nothing changed.
  app.use((err: Error & { status?: number; type?: string }, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (req.path.startsWith('/webhook')) receiver.metrics.requests.inc({ code: String(status) });
    const reason =
      err.type === 'entity.too.large'
        ? `body larger than ${bodyLimitBytes} bytes`
        : err.type === 'entity.parse.failed'
          ? `body is not valid JSON: ${err.message}`
          : err.message;
    res.status(status).json({ error: reason });
  });
  return app;
}
