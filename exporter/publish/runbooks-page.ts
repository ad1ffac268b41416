/**
 * `/runbooks`: docs/runbooks.md as a page, so the shipped rules' runbook_url
 * (`<server.external_url>/runbooks#<alertname>`) opens from Slack, PagerDuty and the pages. The
 * file is read once, from the repository or the image (/app/docs/runbooks.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownToHtml } from '../../common/markdown';
import { escapeHtml, renderPage } from '../../common/web';

let cached: string | undefined;

/** Where the runbooks are, from the compiled file (dist/exporter/publish) or the source (exporter/publish). */
function runbooksFile(): string | undefined {
  return [join(__dirname, '..', '..', '..', 'docs', 'runbooks.md'), join(__dirname, '..', '..', 'docs', 'runbooks.md')].find((f) => existsSync(f));
}

export function renderRunbooksPage(version: string): string {
  if (cached === undefined) {
    const file = runbooksFile();
    const body = file
      ? markdownToHtml(readFileSync(file, 'utf8'))
      : '<p class="bad">docs/runbooks.md is not installed beside the exporter; see the project\'s repository.</p>';
    cached = renderPage({
      title: 'anomaly-exporter · runbooks',
      subtitle: `${escapeHtml(version)} · <a href="/">live view</a>`,
      body: `<div class="card">${body}</div>`,
    });
  }
  return cached;
}
