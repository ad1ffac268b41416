/** Pending approvals, and the approve/reject decision (through the same gates as any decision). */
import express from 'express';
import { errorMessage } from '../../common/errors';
import { ApprovalError, Receiver } from '../receiver';

export function approvalsRouter(receiver: Receiver, authenticated: express.RequestHandler): express.Router {
  const router = express.Router();
  router.get('/api/v1/approvals', authenticated, (_req, res) => {
    res.json({ approvals: receiver.store.approvals.list('pending') });
  });

  router.post('/api/v1/approvals/:id', authenticated, express.json({ limit: 16 * 1024 }), async (req, res) => {
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
  return router;
}
