/**
 * On-demand analysis: `POST /api/v1/analyze` (an Alertmanager alert, or labels and a time) answers
 * the incident analysis once its turn in the queue has come; `GET /api/v1/queue` shows the
 * analyses pending and running (and the last finished) and the runbook actions running now.
 */
import express from 'express';
import { errorMessage } from '../../common/errors';
import { jsonOnly } from '../../common/http-safety';
import { QueueFullError } from '../analysis-queue';
import { parseAnalysisRequest, RequestError } from '../analysis-request';
import { Receiver } from '../receiver';
import { iso } from './api-json';

export function analyzeRouter(receiver: Receiver, authenticated: express.RequestHandler): express.Router {
  const router = express.Router();

  router.post('/api/v1/analyze', authenticated, jsonOnly(), express.json({ limit: 64 * 1024 }), async (req, res) => {
    let request;
    try {
      request = parseAnalysisRequest(req.body, receiver.clock());
    } catch (err) {
      res.status(400).json({ error: err instanceof RequestError ? err.message : errorMessage(err) });
      return;
    }
    try {
      const analysis = await receiver.analyses.submit('analyze', request.labels, () => receiver.analyzeRequest(request));
      res.json(analysis);
    } catch (err) {
      if (err instanceof QueueFullError) res.status(429).set('Retry-After', '5').json({ error: err.message });
      else res.status(500).json({ error: `analysis failed: ${errorMessage(err)}` });
    }
  });

  router.get('/api/v1/queue', authenticated, (_req, res) => {
    const actions = receiver.store.actions.running().map((a) => ({
      action: a.id,
      episode_id: a.episodeId,
      runbook: a.runbook,
      target: a.target,
      started_at: iso(a.startedAtMs),
    }));
    res.set('Cache-Control', 'no-store').json({ analyses: receiver.analyses.snapshot(), actions_running: actions });
  });

  return router;
}
