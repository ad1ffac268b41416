/** The web pages: / (approvals and episodes) and /episodes/:id (timeline and analysis), with their assets. */
import express from 'express';
import { CsrfToken } from '../../common/http-safety';
import { assetRouter } from '../../common/web';
import { Receiver } from '../receiver';
import { settledWithin } from './api-json';
import { APPROVAL_SCRIPT, renderEpisodePage, renderReceiverHome } from './web-pages';

export function pagesRouter(receiver: Receiver, authenticated: express.RequestHandler, csrf: CsrfToken): express.Router {
  const router = express.Router();
  router.use(assetRouter());
  router.get('/assets/approvals.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'public, max-age=3600').send(APPROVAL_SCRIPT);
  });
  router.get('/', authenticated, (_req, res) => {
    res
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(renderReceiverHome(receiver.store, receiver.config.mode, receiver.clock(), csrf.value, receiver.analyses.snapshot()));
  });
  router.get('/episodes/:id', authenticated, async (req, res) => {
    const id = Number(req.params.id);
    const e = Number.isInteger(id) ? receiver.store.episodes.get(id) : undefined;
    if (!e) {
      res.status(404).type('text/plain').send(`no episode ${req.params.id}\n`);
      return;
    }
    const analysis = await receiver.analysis(e.id);
    const narrative = analysis && { analysis, narrative: await settledWithin(receiver.narrative(analysis), 2000) };
    res
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(renderEpisodePage(receiver.store, e, receiver.config.mode, receiver.clock(), csrf.value, narrative, receiver.config.alertmanager !== undefined));
  });
  return router;
}
