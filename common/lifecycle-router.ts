/**
 * `POST /-/reload` (also PUT), as Prometheus and Alertmanager serve it: 200 when the config was
 * reloaded, 500 with every problem when the file was refused (the running config stays), 403
 * unless the lifecycle API was switched on (`--web.enable-lifecycle`), since it lets anyone who
 * reaches the port make the process re-read its files.
 */
import express from 'express';
import { ReloadResult } from './config-reload';

export function lifecycleRouter(reload: (() => Promise<ReloadResult>) | undefined, guard?: express.RequestHandler): express.Router {
  const router = express.Router();
  const handler: express.RequestHandler = async (_req, res) => {
    if (!reload) {
      res.status(403).type('text/plain').send('Lifecycle API is not enabled: start with --web.enable-lifecycle, or send SIGHUP\n');
      return;
    }
    const r = await reload();
    if (!r.ok) res.status(500).type('text/plain').send(`failed to reload config: ${r.error}\n`);
    else if (r.needsRestart.length) res.type('text/plain').send(`config reloaded; these changes need a restart: ${r.needsRestart.join(', ')}\n`);
    else res.type('text/plain').send('config reloaded\n');
  };
  const guards = guard ? [guard] : [];
  router.post('/-/reload', ...guards, handler);
  router.put('/-/reload', ...guards, handler);
  return router;
}
