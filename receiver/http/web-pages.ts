/**
 * The receiver's pages: `/` lists pending approvals (approve and reject buttons) and the latest
 * episodes; `/episodes/:id` shows one episode's timeline (firing → decisions → actions →
 * resolved). Server-rendered from the store; the buttons call POST /api/v1/approvals/:id, so they
 * need the same auth as the API (the browser sends basic credentials itself).
 */
import { escapeHtml, renderPage } from '../../common/web';
import { formatOffset, formatSeconds, formatWithUnit } from '../../common/units';
import { ActionRow, ApprovalRow, AuditEvent, EpisodeRow, ReceiverStore } from '../store/receiver-store';
import { IncidentAnalysis } from '../incident-analysis';
import { AnalysisQueue } from '../analysis-queue';
import { Narrative } from '../llm-narrative';

const time = (ms: number | null) => (ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC');
const labelText = (l: Record<string, string>) =>
  Object.entries(l)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
const statusPill = (s: string) => `<span class="pill ${escapeHtml(s)}">${escapeHtml(s)}</span>`;

/** Served as /assets/approvals.js (the CSP allows no inline script); sends the page's CSRF token back. */
export const APPROVAL_SCRIPT = `document.querySelectorAll('button[data-approval]').forEach(function (b) {
  b.addEventListener('click', function () {
    var out = document.getElementById('approval-result');
    document.querySelectorAll('button[data-approval="' + b.dataset.approval + '"]').forEach(function (x) { x.disabled = true; });
    var token = document.querySelector('meta[name="csrf-token"]').content;
    fetch('/api/v1/approvals/' + b.dataset.approval, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token }, body: JSON.stringify({ decision: b.dataset.decision }) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); })
      .then(function (r) {
        out.textContent = r.ok ? 'Approval ' + b.dataset.approval + ': ' + b.dataset.decision + 'd.' : 'Approval failed (' + r.status + '): ' + (r.body.error || '');
        if (r.ok) setTimeout(function () { location.reload(); }, 300);
      })
      .catch(function (e) { out.textContent = 'Approval failed: ' + e; });
  });
});
document.querySelectorAll('button[data-not-anomaly]').forEach(function (b) {
  b.addEventListener('click', function () {
    var out = document.getElementById('not-anomaly-result');
    b.disabled = true;
    var token = document.querySelector('meta[name="csrf-token"]').content;
    var note = document.getElementById('not-anomaly-note');
    fetch('/api/v1/episodes/' + b.dataset.notAnomaly + '/not-anomaly', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token }, body: JSON.stringify({ note: note ? note.value : '' }) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); })
      .then(function (r) {
        out.textContent = r.ok ? 'Marked not an anomaly: Alertmanager silence ' + r.body.silence_id + '.' : 'Marking failed (' + r.status + '): ' + (r.body.error || '');
        if (r.ok) setTimeout(function () { location.reload(); }, 300);
        else b.disabled = false;
      })
      .catch(function (e) { out.textContent = 'Marking failed: ' + e; b.disabled = false; });
  });
});`;

function approvalRows(approvals: ApprovalRow[], episodes: Map<number, EpisodeRow | undefined>, nowMs: number): string {
  return approvals
    .map((a) => {
      const e = episodes.get(a.episodeId);
      const left = Math.max(0, Math.round((a.expiresAtMs - nowMs) / 1000));
      return `<tr class="approval"><td><a href="/episodes/${a.episodeId}">#${a.episodeId}</a></td><td>${escapeHtml(e?.alertname ?? '')}</td><td>${escapeHtml(e ? labelText(e.labels) : '')}</td><td>${escapeHtml(a.runbook)}</td><td class="num">${left} s</td>
<td><button class="approve" data-approval="${a.id}" data-decision="approve">Approve</button> <button class="reject" data-approval="${a.id}" data-decision="reject">Reject</button></td></tr>`;
    })
    .join('');
}

/** The work in flight: runbook actions running and on-demand analyses running or waiting. */
function workSection(store: ReceiverStore, queue: ReturnType<AnalysisQueue['snapshot']> | undefined, nowMs: number): string {
  const actions = store.actions.running();
  const jobs = queue ? [...queue.running, ...queue.pending] : [];
  if (actions.length === 0 && jobs.length === 0) return '<p class="muted" id="no-work">Nothing running or waiting.</p>';
  const since = (iso: string | number) => formatSeconds(Math.max(0, (nowMs - (typeof iso === 'number' ? iso : Date.parse(iso))) / 1000));
  const rows = [
    ...actions.map(
      (a) =>
        `<tr><td>action</td><td><a href="/episodes/${a.episodeId}">#${a.episodeId}</a> ${escapeHtml(a.runbook)} on ${escapeHtml(a.target)}</td><td><span class="pill pending">running</span></td><td class="num">${since(a.startedAtMs)}</td></tr>`,
    ),
    ...jobs.map(
      (j) =>
        `<tr><td>analysis</td><td>${escapeHtml(labelText(j.subject))}</td><td><span class="pill">${escapeHtml(j.state)}</span></td><td class="num">${since(j.started_at ?? j.requested_at)}</td></tr>`,
    ),
  ].join('');
  return `<table id="work"><tr><th>kind</th><th>what</th><th>state</th><th>for</th></tr>${rows}</table>`;
}

export function renderReceiverHome(
  store: ReceiverStore,
  mode: string,
  nowMs: number,
  csrfToken: string,
  queue?: ReturnType<AnalysisQueue['snapshot']>,
): string {
  const pending = store.approvals.list('pending');
  const episodes = store.episodes.list({ limit: 50 });
  const byId = new Map(pending.map((a) => [a.episodeId, store.episodes.get(a.episodeId)]));
  const approvals = pending.length
    ? `<table id="approvals"><tr><th>episode</th><th>alert</th><th>labels</th><th>runbook</th><th>expires in</th><th></th></tr>${approvalRows(pending, byId, nowMs)}</table>`
    : '<p class="muted" id="no-approvals">No approval is waiting.</p>';
  const rows = episodes
    .map((e) => {
      const decisions = store.episodes.decisionsOf(e.id);
      const actions = store.actions.of(e.id);
      // The decision that acted: Alertmanager's repeats of the group add `duplicate`, which decide nothing.
      const acting = decisions.filter((d) => d.decision !== 'duplicate');
      const last = acting[acting.length - 1] ?? decisions[decisions.length - 1];
      const ttr = e.resolvedAtMs === null ? '–' : formatSeconds(Math.max(0, (e.resolvedAtMs - e.startsAtMs) / 1000));
      // The episode's course in one line: firing → decision → action → resolved, seconds from firing.
      const at = (ms: number) => formatOffset(Math.max(0, (ms - e.startsAtMs) / 1000));
      const course = [
        `firing`,
        ...(decisions[0] ? [`${decisions[0].decision} ${at(decisions[0].atMs)}`] : []),
        ...actions.map((a) => `action ${a.outcome}${a.finishedAtMs === null ? '' : ` ${at(a.finishedAtMs)}`}`),
        ...(e.resolvedAtMs === null ? [] : [`resolved ${at(e.resolvedAtMs)}`]),
      ].join(' → ');
      return `<tr class="episode"><td><a href="/episodes/${e.id}">#${e.id}</a></td><td>${escapeHtml(e.alertname)}</td><td>${escapeHtml(labelText(e.labels))}</td><td>${statusPill(e.status)}${e.resolveKind ? ` <span class="muted">${escapeHtml(e.resolveKind)}</span>` : ''}</td>
<td>${time(e.openedAtMs)}</td><td>${escapeHtml(last ? `${last.decision}${last.gate ? ` (${last.gate})` : ''}` : '–')}</td><td class="course">${escapeHtml(course)}</td><td class="num">${ttr}</td></tr>`;
    })
    .join('');
  const body = `<h2>Pending approvals</h2><p id="approval-result" class="muted"></p>${approvals}
<h2>Work in progress</h2>${workSection(store, queue, nowMs)}
<h2>Episodes</h2>${episodes.length ? `<table id="episodes"><tr><th>episode</th><th>alert</th><th>labels</th><th>status</th><th>opened</th><th>decision</th><th>timeline</th><th>time to resolve</th></tr>${rows}</table>` : '<p class="muted">No episode yet: no alert has arrived.</p>'}
<p class="muted">Also: <a href="/api/v1/episodes">/api/v1/episodes</a> · <a href="/api/v1/queue">/api/v1/queue</a> · <a href="/api/v1/audit">/api/v1/audit</a> · <a href="/metrics">/metrics</a></p>`;
  return renderPage({
    title: 'remediation receiver',
    subtitle: `mode <b>${escapeHtml(mode)}</b> · ${store.episodes.countOpen()} open episodes · ${pending.length} pending approvals`,
    body,
    refreshSeconds: pending.length ? 0 : 10,
    scriptSrc: '/assets/approvals.js',
    meta: { 'csrf-token': csrfToken },
  });
}

interface TimelineEntry {
  atMs: number;
  cls: string;
  text: string;
}

/** The episode's story in time order: the audit log, each action's end told with its outcome detail. */
function timelineOf(e: EpisodeRow, audit: AuditEvent[], actions: ActionRow[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ atMs: e.startsAtMs, cls: 'firing', text: `alert started firing in Prometheus (startsAt)` }];
  for (const ev of audit) {
    // An action's end comes from the actions table below, which keeps what each step did.
    if (ev.kind === 'action_succeeded' || ev.kind === 'action_failed') continue;
    const d = ev.detail;
    const text =
      ev.kind === 'episode_opened'
        ? 'alert delivered by Alertmanager: episode opened'
        : ev.kind === 'decision'
          ? `decision: ${String(d.decision ?? '')}${d.gate ? ` (gate ${String(d.gate)})` : ''}: ${String(d.reason ?? '')}`
          : ev.kind === 'episode_resolved'
            ? `resolved (${String(d.kind ?? '')}): ${String(d.note ?? '')}`
            : `${ev.kind.replace(/_/g, ' ')}${d.runbook ? `: ${String(d.runbook)}` : ''}${d.by ? ` by ${String(d.by)}` : ''}`;
    const cls = ev.kind === 'episode_resolved' ? 'resolved' : ev.kind.startsWith('action') ? 'action' : '';
    entries.push({ atMs: ev.atMs, cls, text });
  }
  for (const a of actions)
    if (a.finishedAtMs !== null) entries.push({ atMs: a.finishedAtMs, cls: 'action', text: `action ${a.outcome} (${a.runbook} on ${a.target}): ${a.detail}` });
  return entries.sort((x, y) => x.atMs - y.atMs);
}

type NarrativeView = Narrative | { status: 'pending' } | undefined;

/** The analysis section: summary, signals table and chart, correlations, next steps, and the LLM's narrative beside it. */
function analysisSection(a: IncidentAnalysis, narrative: NarrativeView): { html: string; chartData: Record<string, unknown> } {
  const num = (v: number | null) => (v === null ? '–' : String(v));
  const rows = a.signals
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.signal)}${s.signal === a.first_signal ? ' <span class="pill firing">first</span>' : ''}</td><td class="num">${s.onset_seconds === null ? '–' : formatOffset(s.onset_seconds)}</td><td class="num">${escapeHtml(formatWithUnit(s.baseline, s.unit ?? undefined))} → ${escapeHtml(formatWithUnit(s.peak, s.unit ?? undefined))}</td><td class="num">${num(s.max_score)}</td><td>${s.normal_now === null ? '–' : s.normal_now ? '<span class="ok">normal</span>' : '<span class="bad">anomalous</span>'}</td></tr>`,
    )
    .join('');
  const signalsTable = a.signals.length
    ? `<table id="analysis-signals"><tr><th>signal</th><th>onset (from alert start)</th><th>before → peak</th><th>max alerting score</th><th>now</th></tr>${rows}</table>
<div data-chart="lines" data-key="scores" data-width="900" data-height="220"></div>`
    : '';
  // The chart starts where the scores do (a young exporter has none for most of the window).
  const ts = a.signals[0]?.series.ts ?? [];
  let from = ts.findIndex((_, i) => a.signals.some((s) => s.series.score[i] !== null));
  if (from < 0) from = 0;
  const chartData = a.signals.length
    ? {
        scores: {
          ts: ts.slice(from),
          series: [
            ...a.signals.map((s) => ({ name: `${s.signal} score`, values: s.series.score.slice(from) })),
            { name: 'threshold', values: ts.slice(from).map(() => 1) },
          ],
        },
      }
    : {};
  const corr = a.correlated.length
    ? `<p>Moved together: ${a.correlated.map((c) => `${escapeHtml(c.signal_a)} and ${escapeHtml(c.signal_b)} (r = ${c.pearson})`).join(', ')}</p>`
    : '';
  const llm =
    narrative === undefined
      ? ''
      : narrative.status === 'ok'
        ? `<div class="card" id="narrative"><h3>Narrative <span class="muted">(${escapeHtml(narrative.model)}, a language model: check it against the analysis)</span></h3><pre>${escapeHtml(narrative.text)}</pre></div>`
        : narrative.status === 'pending'
          ? '<div class="card" id="narrative"><h3>Narrative</h3><p class="muted">The language model is still answering; reload in a moment.</p></div>'
          : `<div class="card" id="narrative"><h3>Narrative <span class="pill firing">failed</span></h3><p class="muted">${escapeHtml(narrative.model)} after ${narrative.attempts} attempt(s): ${escapeHtml(narrative.error)}. The analysis on the left does not depend on it.</p></div>`;
  const html = `<h2>Analysis</h2><div class="card" id="analysis"><p id="analysis-summary">${escapeHtml(a.summary)}</p>
${a.error ? `<p class="bad">${escapeHtml(a.error)}</p>` : ''}
<p>Pattern: <b>${escapeHtml(a.pattern ?? 'none')}</b> · recovered: <b>${a.recovered === null ? 'unknown' : a.recovered ? 'yes' : 'no'}</b> · window ${escapeHtml(a.window.from.slice(11, 19))} to ${escapeHtml(a.window.to.slice(11, 19))} UTC</p>
${signalsTable}${corr}
<h3>Next steps</h3><ol id="next-steps">${a.next_steps.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ol></div>${llm}`;
  return { html, chartData };
}

export function renderEpisodePage(
  store: ReceiverStore,
  e: EpisodeRow,
  mode: string,
  nowMs: number,
  csrfToken: string,
  analysis?: { analysis: IncidentAnalysis; narrative: NarrativeView },
  feedbackOn = true,
): string {
  const feedbackHint = feedbackOn
    ? 'writes an Alertmanager silence marked "anomaly: false-positive" over this episode; the exporter learns the span as normal'
    : 'needs alertmanager.url in the receiver config';
  const section = analysis ? analysisSection(analysis.analysis, analysis.narrative) : undefined;
  const analysisHtml = section?.html ?? '';
  const actions = store.actions.of(e.id);
  const timeline = timelineOf(e, store.auditLog.of(e.id), actions);
  const items = timeline
    .map(
      (t) =>
        `<li class="${t.cls}"><span class="muted">${formatOffset((t.atMs - e.startsAtMs) / 1000)} · ${time(t.atMs).slice(11)}</span> ${escapeHtml(t.text)}</li>`,
    )
    .join('');
  const approvals = store.approvals.of(e.id);
  const pending = approvals.filter((a) => a.status === 'pending');
  const annotations = Object.entries(e.annotations)
    // runbook_url, dashboard and the like open from here when they are absolute http(s) links.
    .map(
      ([k, v]) =>
        `<tr><th>${escapeHtml(k)}</th><td>${/^https?:\/\/[^\s"<>]+$/.test(v) ? `<a href="${escapeHtml(v)}" rel="noreferrer">${escapeHtml(v)}</a>` : escapeHtml(v)}</td></tr>`,
    )
    .join('');
  const marked = store.auditLog.of(e.id).find((x) => x.kind === 'marked_not_anomaly');
  const feedback = marked
    ? `<p id="not-anomaly" class="muted">Marked <b>not an anomaly</b> by ${escapeHtml(String(marked.detail.by ?? ''))} (Alertmanager silence ${escapeHtml(String(marked.detail.silence_id ?? ''))}): the exporter learns this span as normal for the series.</p>`
    : `<p id="not-anomaly"><input id="not-anomaly-note" maxlength="500" placeholder="why (optional)" size="40"> <button class="reject" data-not-anomaly="${e.id}">Not an anomaly</button> <span id="not-anomaly-result" class="muted">${feedbackHint}</span></p>`;
  const body = `<div class="card"><h2>${escapeHtml(e.alertname)} ${statusPill(e.status)}</h2><p>${escapeHtml(labelText(e.labels))}</p>
${annotations ? `<table>${annotations}</table>` : ''}${feedback}</div>
${pending.length ? `<h2>Waiting for approval</h2><p id="approval-result" class="muted"></p><table id="approvals"><tr><th>episode</th><th>alert</th><th>labels</th><th>runbook</th><th>expires in</th><th></th></tr>${approvalRows(pending, new Map([[e.id, e]]), nowMs)}</table>` : ''}
<h2>Timeline</h2><ol class="timeline" id="timeline">${items}</ol>
${analysisHtml}
<p><a href="/">← all episodes</a> · <a href="/api/v1/episodes/${e.id}">JSON</a></p>`;
  return renderPage({
    title: `episode #${e.id}`,
    subtitle: `remediation receiver · mode <b>${escapeHtml(mode)}</b>`,
    body,
    scriptSrc: '/assets/approvals.js',
    meta: { 'csrf-token': csrfToken },
    chartData: section?.chartData,
  });
}
