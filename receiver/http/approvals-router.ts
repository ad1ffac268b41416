/** Pending approvals, and the approve/reject decision (through the same gates as any decision). */
import express from 'express';
import { errorMessage } from '../../common/errors';
import { CsrfToken, jsonOnly } from '../../common/http-safety';
import { ApprovalError, Receiver } from '../receiver';

/**
 * `csrf`: required in X-CSRF-Token where a browser sends credentials by itself (auth none or
 * basic); the receiver's pages embed it, API clients read it from GET /api/v1/csrf-token (which
 * another site's page cannot read). Bearer tokens are never sent by a browser on its own.
 */
export function approvalsRouter(receiver: Receiver, authenticated: express.RequestHandler, csrfOf: () => CsrfToken | undefined): express.Router {
  const router = express.Router();
  router.get('/api/v1/csrf-token', authenticated, (_req, res) => {
    const csrf = csrfOf();
    res.set('Cache-Control', 'no-store').json({ token: csrf?.value ?? null, required: csrf !== undefined });
  });
  router.get('/api/v1/approvals', authenticated, (_req, res) => {
    res.json({ approvals: receiver.store.approvals.list('pending') });
  });

  router.post('/api/v1/approvals/:id', authenticated, jsonOnly(), express.json({ limit: 16 * 1024 }), async (req, res) => {
    const csrf = csrfOf();
    if (csrf && !csrf.matches(req.headers['x-csrf-token'])) {
      res.status(403).json({ error: 'missing or wrong X-CSRF-Token: take it from the page or GET /api/v1/csrf-token' });
      return;
    }
    const decision = (req.body as { decision?: unknown } | undefined)?.decision;
    if (decision !== 'approve' && decision !== 'reject') {
      res.status(400).json({ error: 'body must be {"decision": "approve"} or {"decision": "reject"}' });
      return;
    }
    try {
      res.json(await receiver.decideApproval(Number(req.params.id), decision, String(res.locals.user)));
    } catch (err) {
      if (err instanceof ApprovalError) {
        res.status(err.status).json({ error: errorMessage(err) });
        return;
      }
      // The store failed (a full disk, say): nothing was committed, the click can be retried.
      receiver.metrics.storeErrors.inc({ operation: 'approval' });
      res.status(503).json({ error: `could not store the decision: ${errorMessage(err)}` });
    }
  });
  return router;
}
