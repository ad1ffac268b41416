/**
 * POST /webhook/alertmanager. Answers follow Alertmanager's retry rules: 2xx once the decisions
 * are durably stored; 400 (with a reason) only for an unusable request, which changes nothing;
 * 503 only when a retry is safe (the store failed: nothing was committed).
 */
import express from 'express';
import { errorMessage } from '../../common/errors';
import { jsonOnly } from '../../common/http-safety';
import { PayloadError } from '../alertmanager-payload';
import { Receiver } from '../receiver';

export function webhookRouter(receiver: Receiver, authenticated: express.RequestHandler, bodyLimitBytes: number): express.Router {
  const router = express.Router();
  const { log, metrics } = receiver;
  // Only application/json, as Alertmanager sends: a cross-site <form> can send text/plain without asking.
  router.post('/webhook/alertmanager', authenticated, jsonOnly(), express.json({ limit: bodyLimitBytes, strict: false }), async (req, res) => {
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
      metrics.storeErrors.inc({ operation: 'webhook' });
      res.status(503).json({ error: `could not store the decisions: ${errorMessage(err)}` });
    }
  });
  return router;
}
