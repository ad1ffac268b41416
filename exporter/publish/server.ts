import { hostAllowlist, sameOriginWrites, securityHeaders } from '../../common/http-safety';
import { assetRouter } from '../../common/web';
import { ReloadResult } from '../../common/config-reload';
import { lifecycleRouter } from '../../common/lifecycle-router';
import { ANALYZE_JS } from './analyze-page';
import express, { Express } from 'express';
import { Registry } from 'prom-client';

export interface ServerState {
  /** Why the exporter is not ready (/readyz answers 503 with it), or undefined when it is. */
  notReady(): string | undefined;
  /** Exposition text (UTF-8, in pieces) of the latest snapshot's public metrics. */
  snapshotBody(): readonly Buffer[];
  /** The JSON of /api/v1/incidents. */
  incidents(): unknown;
  /** The HTML of the `/` page, for groups matching `filter` (the query string's labels). */
  page(filter?: Record<string, string>): string;
}

export interface ExporterAppOptions {
  /** server.allowed_hosts, the names answered besides localhost, this machine's and IP literals (read per request: reloadable). */
  allowedHosts?: () => readonly string[];
  /** Serves `POST /-/reload` when given (`--web.enable-lifecycle`). */
  reload?: () => Promise<ReloadResult>;
  /** The web config's guard (client certificates, basic auth), first in line. */
  guard?: express.RequestHandler;
  /** The runbooks page (/runbooks), where the shipped rules' runbook_url points. */
  runbooks?: () => string;
  /** The Analyse page (/analyze) and the analyze stage's API router (POST /api/v1/analyze, exporter/analyze/). */
  analyze?: { router: express.Router; page: () => string };
}

/** The exporter's HTTP surface: /metrics, /healthz, /readyz, /-/reload and a landing page. */
export function createExporterApp(registry: Registry, state: ServerState, opts: ExporterAppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  if (opts.guard) app.use(opts.guard);
  app.use(securityHeaders());
  app.use(hostAllowlist(opts.allowedHosts ?? (() => [])));
  app.use(sameOriginWrites());
  app.use(lifecycleRouter(opts.reload));
  app.get('/metrics', async (_req, res) => {
    try {
      const self = Buffer.from(await registry.metrics());
      const body = state.snapshotBody();
      // Written piece by piece: no copy of the cached body and no ETag hash over it per scrape.
      res.set('Content-Type', registry.contentType).set('Content-Length', String(body.reduce((n, b) => n + b.length, self.length)));
      for (const piece of body) res.write(piece);
      res.end(self);
    } catch (err) {
      res
        .status(500)
        .type('text/plain')
        .send(`error rendering metrics: ${(err as Error).message}\n`);
    }
  });
  app.get('/api/v1/incidents', (_req, res) => {
    res.json(state.incidents());
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const problem = state.notReady();
    if (problem === undefined) res.type('text/plain').send('ready\n');
    else res.status(503).type('text/plain').send(`not ready: ${problem}\n`);
  });
  app.use(assetRouter());
  app.get('/assets/analyze.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'public, max-age=3600').send(ANALYZE_JS);
  });
  if (opts.runbooks) {
    const runbooks = opts.runbooks;
    app.get('/runbooks', (_req, res) => {
      res.type('html').send(runbooks());
    });
  }
  if (opts.analyze) {
    const page = opts.analyze.page;
    app.use(opts.analyze.router);
    app.get('/analyze', (_req, res) => {
      res.type('html').set('Cache-Control', 'no-store').send(page());
    });
  }
  app.get('/', (req, res) => {
    const filter = Object.fromEntries(Object.entries(req.query).filter((e): e is [string, string] => typeof e[1] === 'string'));
    res
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(state.page(Object.keys(filter).length ? filter : undefined));
  });
  // Last: an error answers 500 with a line, never express' default page with a stack trace.
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).type('text/plain').send(`internal error: ${err.message}\n`);
  });
  return app;
}
