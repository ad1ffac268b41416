/**
 * The receiver's HTTP API (express): POST /webhook/alertmanager, the episode and audit APIs,
 * approvals, /metrics and /healthz, and the web pages (/ and /episodes/:id). Answers follow Alertmanager's retry rules: 2xx once the
 * decisions are durably stored; 4xx (with a reason) only for an unusable request, which changes
 * nothing; 5xx only when a retry is safe (the store failed: nothing was committed).
 */
import express from 'express';
import { Registry } from 'prom-client';
import { errorMessage } from '../common/errors';
import { PayloadError } from './alertmanager-payload';
import { ApprovalError, Receiver } from './receiver';
import { AuthCheck } from './request-auth';
import { EpisodeRow, EpisodeStatus } from './store/receiver-store';
import { assetRouter } from '../common/web';
import { renderEpisodePage, renderReceiverHome } from './web-pages';

export function createReceiverApp(receiver: Receiver, registry: Registry, auth: AuthCheck, bodyLimitBytes: number): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const log = receiver.log;
  const metrics = receiver.metrics;

  // One challenge, of the configured scheme: browsers then ask for basic credentials themselves.
  const challenge = `${receiver.config.auth?.type === 'bearer' ? 'Bearer' : 'Basic'} realm="remediation-receiver"`;
  const requireAuth: express.RequestHandler = (req, res, next) => {
    const r = auth(req.headers.authorization);
    if (r.ok) {
      res.locals.user = r.user;
      next();
      return;
    }
    if (req.path.startsWith('/webhook')) metrics.requests.inc({ code: '401' });
    res.status(401).set('WWW-Authenticate', challenge).json({ error: r.reason });
  };

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.post('/webhook/alertmanager', requireAuth, express.json({ limit: bodyLimitBytes, strict: false, type: () => true }), async (req, res) => {
    try {
      const result = await receiver.receive(req.body);
      metrics.requests.inc({ code: '200' });
      res.json({ received: result.received, rejected: result.rejected, decisions: result.decisions, resolved: result.resolved });
      receiver.startActions(result.actions);
    } catch (err) {
      if (err instanceof PayloadError) {
        metrics.requests.inc({ code: '400' });
        res.status(400).json({ error: err.message });
        return;
      }
      // Nothing was committed (one transaction): Alertmanager's retry is safe.
      log.error('webhook could not be stored', { error: errorMessage(err) });
      metrics.requests.inc({ code: '503' });
      res.status(503).json({ error: `could not store the decisions: ${errorMessage(err)}` });
    }
  });

  app.use(assetRouter());
  app.get('/', requireAuth, (_req, res) => {
    res
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(renderReceiverHome(receiver.store, receiver.config.mode, receiver.clock()));
  });
  app.get('/episodes/:id', requireAuth, async (req, res) => {
    const id = Number(req.params.id);
    const e = Number.isInteger(id) ? receiver.store.episodes.get(id) : undefined;
    if (!e) {
      res.status(404).type('text/plain').send(`no episode ${req.params.id}\n`);
      return;
    }
    const analysis = await receiver.analysis(e.id);
    res
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(
        renderEpisodePage(
          receiver.store,
          e,
          receiver.config.mode,
          receiver.clock(),
          analysis && { analysis, narrative: await settledWithin(receiver.narrative(analysis), 2000) },
        ),
      );
  });
  app.get('/api/v1/episodes/:id/analysis', requireAuth, async (req, res) => {
    const id = Number(req.params.id);
    const analysis = Number.isInteger(id) ? await receiver.analysis(id) : undefined;
    if (!analysis) {
      res.status(404).json({ error: `no episode ${req.params.id}` });
      return;
    }
    // ?wait=1 waits for the narrative; otherwise it is given if ready, else {status: pending}.
    const narrative = req.query.wait ? await receiver.narrative(analysis) : await settledWithin(receiver.narrative(analysis), 0);
    res.json({ ...analysis, narrative: narrative ?? null });
  });

  app.get('/api/v1/episodes', requireAuth, (req, res) => {
    const status = req.query.status;
    if (status !== undefined && status !== 'firing' && status !== 'resolved') {
      res.status(400).json({ error: 'status must be firing or resolved' });
      return;
    }
    const since = req.query.since === undefined ? undefined : Date.parse(String(req.query.since));
    if (since !== undefined && !Number.isFinite(since)) {
      res.status(400).json({ error: 'since must be an RFC 3339 time' });
      return;
    }
    const episodes = receiver.store.episodes.list({
      status: status as EpisodeStatus | undefined,
      runbook: typeof req.query.runbook === 'string' ? req.query.runbook : undefined,
      sinceMs: since,
    });
    res.json({ episodes: episodes.map(episodeJson) });
  });

  app.get('/api/v1/episodes/:id', requireAuth, (req, res) => {
    const id = Number(req.params.id);
    const e = Number.isInteger(id) ? receiver.store.episodes.get(id) : undefined;
    if (!e) {
      res.status(404).json({ error: `no episode ${req.params.id}` });
      return;
    }
    res.json({
      ...episodeJson(e),
      decisions: receiver.store.episodes.decisionsOf(e.id).map((d) => ({ ...d, at: iso(d.atMs) })),
      actions: receiver.store.actions
        .of(e.id)
        .map((a) => ({ ...a, started_at: iso(a.startedAtMs), finished_at: a.finishedAtMs === null ? null : iso(a.finishedAtMs) })),
      approvals: receiver.store.approvals.of(e.id),
      timeline: receiver.store.auditLog.of(e.id).map((ev) => ({ at: iso(ev.atMs), kind: ev.kind, ...ev.detail })),
    });
  });

  app.get('/api/v1/audit', requireAuth, (req, res) => {
    const since = req.query.since === undefined ? 0 : Date.parse(String(req.query.since));
    if (!Number.isFinite(since)) {
      res.status(400).json({ error: 'since must be an RFC 3339 time' });
      return;
    }
    res.type('application/x-ndjson');
    for (const ev of receiver.store.auditLog.iterate(since))
      res.write(`${JSON.stringify({ id: ev.id, at: iso(ev.atMs), kind: ev.kind, episode: ev.episodeId, ...ev.detail })}\n`);
    res.end();
  });

  app.get('/api/v1/approvals', requireAuth, (_req, res) => {
    res.json({ approvals: receiver.store.approvals.list('pending') });
  });

  app.post('/api/v1/approvals/:id', requireAuth, express.json({ limit: 16 * 1024 }), async (req, res) => {
    const decision = (req.body as { decision?: unknown } | undefined)?.decision;
    if (decision !== 'approve' && decision !== 'reject') {
      res.status(400).json({ error: 'body must be {"decision": "approve"} or {"decision": "reject"}' });
      return;
    }
    try {
      res.json(await receiver.decideApproval(Number(req.params.id), decision, String(res.locals.user)));
    } catch (err) {
      res.status(err instanceof ApprovalError ? err.status : 500).json({ error: errorMessage(err) });
    }
  });

  // Body parser errors: too large (413) or not JSON (400); a reason, and nothing changed.
  app.use((err: Error & { status?: number; type?: string }, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (req.path.startsWith('/webhook')) metrics.requests.inc({ code: String(status) });
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

/** The promise's value if it settles within `ms`, else {status: pending}; undefined stays undefined. */
async function settledWithin<T>(p: Promise<T> | undefined, ms: number): Promise<T | { status: 'pending' } | undefined> {
  if (!p) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<{ status: 'pending' }>((resolve) => (timer = setTimeout(() => resolve({ status: 'pending' }), ms)));
  try {
    return await Promise.race([p, pending]);
  } finally {
    clearTimeout(timer);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function episodeJson(e: EpisodeRow) {
  return {
    id: e.id,
    fingerprint: e.fingerprint,
    alertname: e.alertname,
    status: e.status,
    starts_at: e.startsAt,
    opened_at: iso(e.openedAtMs),
    resolved_at: e.resolvedAtMs === null ? null : iso(e.resolvedAtMs),
    resolve_kind: e.resolveKind,
    time_to_resolve_seconds: e.resolvedAtMs === null ? null : Math.max(0, (e.resolvedAtMs - e.startsAtMs) / 1000),
    runbook: e.runbook,
    labels: e.labels,
    annotations: e.annotations,
  };
}
