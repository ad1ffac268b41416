/**
 * The exporter's `/` page: per group (service), each signal's value with its expected band and
 * its score as sparklines, the current incidents with their hint, and the correlation matrix.
 * Server-rendered from the latest snapshot; reloads itself every cycle.
 */
import { FeedbackMark } from '../feedback/feedback-mark';
import { wellFormed } from '../../common/well-formed';
import { escapeHtml, renderPage } from '../../common/web';
import { formatWithUnit } from '../../common/units';
import { HistoryArrays } from '../cycle/series-history';
import { GroupResult, SeriesResult, Snapshot } from './snapshot';

export interface ExporterPageInput {
  snapshot: Snapshot;
  historyOf: (r: SeriesResult) => HistoryArrays | undefined;
  description: { signals: string[]; source: string; version: string };
  /** Each signal's unit (reader.signals.NAME.unit), for every value shown. */
  units?: Record<string, string | undefined>;
  /** How long the sparklines' history is meant to cover (history_samples × step), for their captions. */
  historySpanSeconds?: number;
  groupBy: readonly string[];
  refreshSeconds: number;
  /** Show only groups whose labels match these (from the query string). */
  filter?: Record<string, string>;
  /** Groups shown at most (anomalous first); the rest are counted. */
  maxGroups?: number;
  /** Operator feedback marks (Alertmanager silences with a marker), newest last. */
  marks?: readonly FeedbackMark[];
}

/** The newest feedback marks: what on-call said, which series, which span. */
function feedbackTable(marks: readonly FeedbackMark[]): string {
  if (marks.length === 0) return '';
  const when = (s: number) => (Number.isFinite(s) ? new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 19) : 'open');
  const rows = [...marks]
    .sort((a, b) => b.fromSeconds - a.fromSeconds)
    .slice(0, 20)
    .map((m) => {
      const who = m.matchers.map((x) => `${x.name}${x.isEqual === false ? '!' : ''}${x.isRegex ? '=~' : '='}"${x.value}"`).join(', ');
      return `<tr class="feedback-mark"><td>${m.kind === 'maintenance' ? 'maintenance' : 'not an anomaly'}</td><td>${escapeHtml(who)}</td><td>${when(m.fromSeconds)} to ${when(m.toSeconds)} UTC${m.open ? ' (until it ended)' : ''}</td><td>${escapeHtml(m.createdBy)}</td></tr>`;
    })
    .join('');
  return `<h2>Operator feedback</h2><p class="muted">Silences in Alertmanager marked "anomaly: false-positive" (learned as normal) or "anomaly: maintenance" (never learned, not alerted on): the ${Math.min(20, marks.length)} newest of ${marks.length}.</p><table id="feedback"><tr><th>mark</th><th>series</th><th>span</th><th>by</th></tr>${rows}</table>`;
}

const fmt = (v: number | undefined) => formatWithUnit(v);

/** "45 s", "60 min", "2 h": the span a chart covers. */
function spanText(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 3 * 3600) return `${Math.round(seconds / 60)} min`;
  return `${Number((seconds / 3600).toFixed(1))} h`;
}
const labelText = (l: Readonly<Record<string, string>>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');

function incidentsTable(groups: readonly GroupResult[]): string {
  const open = groups.filter((g) => g.incident);
  if (open.length === 0) return '<p class="ok" id="no-incidents">No incidents: no group has an anomalous signal.</p>';
  const rows = open
    .map(
      (g) =>
        `<tr class="incident"><td>${escapeHtml(labelText(g.labels))}</td><td><span class="pill firing">${escapeHtml(g.incident!.pattern)}</span></td><td>${escapeHtml(g.incident!.firstSignal)}</td><td class="num">${g.anomalousSignals}</td><td class="hint">${escapeHtml(g.incident!.hint)} <a href="/runbooks#anomalyincident">runbook</a></td></tr>`,
    )
    .join('');
  return `<table id="incidents"><tr><th>group</th><th>pattern</th><th>first signal</th><th>anomalous signals</th><th>hint</th></tr>${rows}</table>`;
}

function correlationMatrix(g: GroupResult): string {
  const pearson = g.correlations.filter((c) => c.method === 'pearson');
  if (pearson.length === 0) return '<p class="muted">Correlations: not enough shared samples yet.</p>';
  const signals = [...new Set(pearson.flatMap((c) => [c.signalA, c.signalB]))].sort();
  const value = (a: string, b: string) => pearson.find((c) => (c.signalA === a && c.signalB === b) || (c.signalA === b && c.signalB === a))?.value;
  const cell = (a: string, b: string) => {
    // A signal with itself is always 1: shown plain, so the strongest colour means something.
    if (a === b) return '<td class="corr diag muted">1</td>';
    const v = value(a, b);
    if (v === undefined) return '<td class="corr muted">–</td>';
    // Red for strong positive, blue for strong negative correlation, in tenths (classes in the
    // page's stylesheet: the CSP allows no inline style).
    const tenths = Math.round(Math.min(1, Math.abs(v)) * 10);
    return `<td class="corr ${v >= 0 ? 'p' : 'n'}${tenths}">${v.toFixed(2)}</td>`;
  };
  const head = `<tr><th>Pearson</th>${signals.map((s) => `<th>${escapeHtml(s)}</th>`).join('')}</tr>`;
  const rows = signals.map((a) => `<tr><th>${escapeHtml(a)}</th>${signals.map((b) => cell(a, b)).join('')}</tr>`).join('');
  return `<table class="correlation">${head}${rows}</table>`;
}

export function renderExporterPage(p: ExporterPageInput): string {
  const { snapshot: s } = p;
  const chartData: Record<string, HistoryArrays> = {};
  // Series by group key, in one pass (10,000 series in 3,000 groups must not be 30 million checks).
  const keyOf = (labels: Readonly<Record<string, string>>) =>
    p.groupBy.every((k) => labels[k] !== undefined) ? p.groupBy.map((k) => labels[k]).join('\u0000') : undefined;
  const byGroup = new Map<string, SeriesResult[]>();
  for (const r of s.series) {
    const k = keyOf(r.labels);
    if (k === undefined) continue;
    const list = byGroup.get(k);
    if (list) list.push(r);
    else byGroup.set(k, [r]);
  }
  const membersOf = (g: GroupResult) => byGroup.get(keyOf(g.labels) ?? '') ?? [];
  const matches = (labels: Readonly<Record<string, string>>) => !p.filter || Object.entries(p.filter).every(([k, v]) => labels[k] === v);
  const groups = s.groups
    .filter((g) => matches(g.labels))
    .sort((a, b) => b.anomalousSignals - a.anomalousSignals || labelText(a.labels).localeCompare(labelText(b.labels)));
  const max = p.maxGroups ?? 50;
  let key = 0;
  // One table of series: a row each, with the span its charts actually cover (their history may
  // still be filling up; at most the configured history) in the header.
  const signalTable = (series: readonly SeriesResult[]) => {
    let seconds = 0;
    const rows = series
      .map((r) => {
        const k = `s${key++}`;
        const h = p.historyOf(r);
        if (h) {
          chartData[k] = h;
          if (h.ts.length > 1) seconds = Math.max(seconds, h.ts[h.ts.length - 1] - h.ts[0]);
        }
        const extra = Object.entries(r.labels).filter(([n]) => n !== 'signal' && !p.groupBy.includes(n));
        const unit = p.units?.[r.signal];
        const v = (x: number | undefined) => escapeHtml(formatWithUnit(x, unit));
        return `<tr class="signal${r.anomalous ? ' anomalous' : ''}"><td>${escapeHtml(r.signal)}${unit ? ` <span class="muted">(${escapeHtml(unit)})</span>` : ''}${extra.length ? `<br><span class="muted">${escapeHtml(labelText(Object.fromEntries(extra)))}</span>` : ''}</td>
<td class="num">${v(r.value)}</td><td class="num">${v(r.expected)} <span class="muted">(${v(r.lower)} to ${v(r.upper)})</span></td>
<td class="num ${r.ensemble > 1 ? 'bad' : ''}">${fmt(r.ensemble)}</td>
<td><div data-chart="value" data-key="${k}"></div></td><td><div data-chart="score" data-key="${k}"></div></td></tr>`;
      })
      .join('');
    if (p.historySpanSeconds !== undefined) seconds = Math.min(seconds, p.historySpanSeconds);
    return `<table>${head(seconds > 0 ? `, last ${spanText(seconds)}` : '')}${rows}</table>`;
  };
  const head = (span: string) =>
    `<tr><th>signal</th><th>now</th><th>expected (band)</th><th title="The ensemble score the shipped alert rules use: above 1 is anomalous">alerting score<br><span class="muted">ensemble, &gt; 1 is anomalous</span></th><th>value and band${span}</th><th>alerting score${span}<br><span class="muted">dashed line at 1</span></th></tr>`;
  const sections = groups.slice(0, max).map((g) => {
    const members = membersOf(g);
    const status = g.anomalousSignals > 0 ? `<span class="pill firing">${g.anomalousSignals} anomalous</span>` : '<span class="pill resolved">normal</span>';
    const link = `?${Object.entries(g.labels)
      .map(([k, v]) => `${encodeURIComponent(wellFormed(k))}=${encodeURIComponent(wellFormed(v))}`)
      .join('&')}`;
    return `<div class="card group"><h3><a href="${escapeHtml(link)}">${escapeHtml(labelText(g.labels))}</a> ${status}${g.forestScore !== undefined ? ` <span class="muted">group score ${fmt(g.forestScore)}</span>` : ''}</h3>
${signalTable(members)}${correlationMatrix(g)}</div>`;
  });
  const ungrouped = p.groupBy.length === 0 || !p.filter ? s.series.filter((r) => keyOf(r.labels) === undefined && matches(r.labels)).slice(0, 200) : [];
  const anomalous = s.series.filter((r) => r.anomalous).length;
  const built = s.builtAtSeconds ? new Date(s.builtAtSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'no cycle yet';
  const body = `<h2>Incidents</h2>${incidentsTable(groups)}
<h2>Signals${p.filter ? ` <a class="muted" href="/">(show all)</a>` : ''}</h2>
${groups.length > max ? `<p class="muted">Showing ${max} of ${groups.length} groups, anomalous first; filter with ?${escapeHtml(p.groupBy[0] ?? 'label')}=value.</p>` : ''}
${sections.join('\n') || (ungrouped.length ? '' : '<p class="muted">No series scored yet.</p>')}
${ungrouped.length ? `<div class="card"><h3>Series without a group</h3>${signalTable(ungrouped)}</div>` : ''}
${feedbackTable(p.marks ?? [])}
<p class="muted">Also: <a href="/analyze">analyse a signal or a query over a past range</a> · <a href="/metrics">/metrics</a> · <a href="/api/v1/incidents">/api/v1/incidents</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>`;
  return renderPage({
    title: 'anomaly-exporter',
    subtitle: `${escapeHtml(p.description.version)} · source ${escapeHtml(p.description.source)} · signals ${escapeHtml(p.description.signals.join(', '))} · last cycle ${built} · ${s.series.length} series, <b>${anomalous} anomalous</b>`,
    body,
    refreshSeconds: p.refreshSeconds,
    chartData,
  });
}
