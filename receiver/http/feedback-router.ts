/**
 * POST /api/v1/episodes/:id/not-anomaly: on-call says the episode was not an anomaly. Behind the
 * auth, JSON only, with the CSRF token where a browser sends credentials by itself, exactly as the
 * approval buttons (approvals-router.ts).
 */
import express from 'express';
import { errorMessage } from '../../common/errors';
import { CsrfToken, jsonOnly } from '../../common/http-safety';
import { NotAnomalyError } from '../not-anomaly';
import { Receiver } from '../receiver';

export function feedbackRouter(receiver: Receiver, authenticated: express.RequestHandler, csrfOf: () => CsrfToken | undefined): express.Router {
  const router = express.Router();
  router.post('/api/v1/episodes/:id/not-anomaly', authenticated, jsonOnly(), express.json({ limit: 4 * 1024 }), async (req, res) => {
    const csrf = csrfOf();
    if (csrf && !csrf.matches(req.headers['x-csrf-token'])) {
      res.status(403).json({ error: 'missing or wrong X-CSRF-Token: take it from the page or GET /api/v1/csrf-token' });
      return;
    }
    const id = Number(req.params.id);
    if (!Number.isInteger(id)) {
      res.status(404).json({ error: `no episode ${req.params.id}` });
      return;
    }
    const note = (req.body as { note?: unknown } | undefined)?.note;
    if (note !== undefined && typeof note !== 'string') {
      res.status(400).json({ error: 'note must be a string' });
      return;
    }
    try {
      const result = await receiver.notAnomaly.mark(id, String(res.locals.user), note ?? '');
      if (!result.already) receiver.metrics.notAnomaly.inc({ outcome: 'marked' });
      res.json(result);
    } catch (err) {
      if (err instanceof NotAnomalyError) {
        if (err.status === 502) receiver.metrics.notAnomaly.inc({ outcome: 'failed' });
        res.status(err.status).json({ error: errorMessage(err) });
        return;
      }
      receiver.metrics.storeErrors.inc({ operation: 'not_anomaly' });
      res.status(503).json({ error: `could not record the mark: ${errorMessage(err)}` });
    }
  });
  return router;
}
