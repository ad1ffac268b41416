import express, { Express } from 'express';
import { Registry } from 'prom-client';

export interface ServerState {
  ready(): boolean;
  /** Exposition text (UTF-8, in pieces) of the latest snapshot's public metrics. */
  snapshotBody(): readonly Buffer[];
  /** The JSON of /api/v1/incidents. */
  incidents(): unknown;
  description(): { signals: string[]; source: string; version: string };
}

/** The exporter's HTTP surface: /metrics, /healthz, /readyz and a landing page. */
export function createExporterApp(registry: Registry, state: ServerState): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    try {
      const self = Buffer.from(await registry.metrics());
      const body = state.snapshotBody();
      // Written piece by piece: no copy of the cached body and no ETag hash over it per scrape.
      res.set('Content-Type', registry.contentType).set('Content-Length', String(body.reduce((n, b) => n + b.length, self.length)));
      for (const piece of body) res.write(piece);
      res.end(self);
    } catch (err) {
      res.status(500).type('text/plain').send(`error rendering metrics: ${(err as Error).message}\n`);
    }
  });
  app.get('/api/v1/incidents', (_req, res) => {
    res.json(state.incidents());
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    if (state.ready()) res.type('text/plain').send('ready\n');
    else res.status(503).type('text/plain').send('not ready: no successful cycle yet\n');
  });
  app.get('/', (_req, res) => {
    const d = state.description();
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>anomaly-exporter</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .2rem}</style></head>
<body><h1>anomaly-exporter ${escapeHtml(d.version)}</h1>
<p>Scores ${d.signals.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ')} from <code>${escapeHtml(d.source)}</code>.
Status: ${state.ready() ? 'ready' : 'warming up (no successful cycle yet)'}.</p>
<ul><li><a href="/metrics">/metrics</a>: anomaly scores, expected bands and self-metrics</li>
<li><a href="/api/v1/incidents">/api/v1/incidents</a>: groups with anomalous signals, their order, correlations and pattern</li>
<li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a></li></ul>
</body></html>\n`);
  });
  return app;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
