/** The read API: episodes (list, one, its analysis) and the audit log as JSON lines. */
import express from 'express';
import { Receiver } from '../receiver';
import { EpisodeStatus } from '../store/receiver-store';
import { episodeJson, iso, settledWithin } from './api-json';

export function episodesRouter(receiver: Receiver, authenticated: express.RequestHandler): express.Router {
  const router = express.Router();
  const store = receiver.store;

  router.get('/api/v1/episodes/:id/analysis', authenticated, async (req, res) => {
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

  router.get('/api/v1/episodes', authenticated, (req, res) => {
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
    const episodes = store.episodes.list({
      status: status as EpisodeStatus | undefined,
      runbook: typeof req.query.runbook === 'string' ? req.query.runbook : undefined,
      sinceMs: since,
    });
    res.json({ episodes: episodes.map(episodeJson) });
  });

  router.get('/api/v1/episodes/:id', authenticated, (req, res) => {
    const id = Number(req.params.id);
    const e = Number.isInteger(id) ? store.episodes.get(id) : undefined;
    if (!e) {
      res.status(404).json({ error: `no episode ${req.params.id}` });
      return;
    }
    res.json({
      ...episodeJson(e),
      decisions: store.episodes.decisionsOf(e.id).map((d) => ({ ...d, at: iso(d.atMs) })),
      actions: store.actions.of(e.id).map((a) => ({ ...a, started_at: iso(a.startedAtMs), finished_at: a.finishedAtMs === null ? null : iso(a.finishedAtMs) })),
      approvals: store.approvals.of(e.id),
      timeline: store.auditLog.of(e.id).map((ev) => ({ at: iso(ev.atMs), kind: ev.kind, ...ev.detail })),
    });
  });

  router.get('/api/v1/audit', authenticated, (req, res) => {
    const since = req.query.since === undefined ? 0 : Date.parse(String(req.query.since));
    if (!Number.isFinite(since)) {
      res.status(400).json({ error: 'since must be an RFC 3339 time' });
      return;
    }
    res.type('application/x-ndjson');
    for (const ev of store.auditLog.iterate(since))
      res.write(`${JSON.stringify({ id: ev.id, at: iso(ev.atMs), kind: ev.kind, episode: ev.episodeId, ...ev.detail })}\n`);
    res.end();
  });
  return router;
}
