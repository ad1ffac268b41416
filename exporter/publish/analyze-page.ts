/**
 * The exporter's Analyse page (`/analyze`): pick a configured signal or type PromQL, choose a
 * range, and see each series with its expected band, its alerting score and the points scored
 * above 1, with a CSV download. The work is the analyze stage's (exporter/analyze/); the page's script
 * (`/assets/analyze.js`) streams its answer, shows progress and draws the charts with uPlot.
 */
import { escapeHtml, renderPage } from '../../common/web';

/** The range presets, in hours; a preset is offered only when its range fits the API's steps at most. */
const PRESETS: readonly [number, string][] = [
  [1, '1 h'],
  [6, '6 h'],
  [24, '24 h'],
  [168, '7 d'],
];

/** The presets that fit at this step, and a note naming those that do not and why. */
export function rangePresets(stepSeconds: number, maxPoints: number): { offered: [number, string][]; note?: string } {
  const fits = ([hours]: [number, string]) => (hours * 3600) / stepSeconds + 1 <= maxPoints;
  const offered = PRESETS.filter(fits);
  const left = PRESETS.filter((p) => !fits(p));
  if (left.length === 0) return { offered };
  const longest = ((maxPoints - 1) * stepSeconds) / 3600;
  return {
    offered,
    note: `${left.map(([, l]) => l).join(' and ')} would be more than ${maxPoints.toLocaleString('en')} steps of ${stepSeconds} s (scheduler.step, which the models are fitted at): the longest range here is ${Number(longest.toPrecision(3))} h`,
  };
}

/** 24-hour UTC times typed as text: a datetime-local field shows the browser's 12-hour AM/PM. */
const TIME_INPUT = 'required size="16" pattern="\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}" placeholder="YYYY-MM-DD HH:MM" title="UTC, 24-hour: YYYY-MM-DD HH:MM"';

export function renderAnalyzePage(p: {
  signals: Record<string, { query: string; unit?: string }>;
  version: string;
  source: string;
  stepSeconds: number;
  /** Whether typed PromQL is allowed (server.analyze_any_query). */
  anyQuery: boolean;
  /** The most steps the analyze API takes in one range. */
  maxPoints: number;
}): string {
  const options = Object.entries(p.signals)
    .map(
      ([name, s]) =>
        `<option value="${escapeHtml(name)}" title="${escapeHtml(s.query)}">${escapeHtml(name)}${s.unit ? ` (${escapeHtml(s.unit)})` : ''}</option>`,
    )
    .join('');
  const query = p.anyQuery
    ? `<label class="query">or PromQL (used when "PromQL below" is chosen)<br><textarea name="query" rows="2" cols="90" spellcheck="false" placeholder="sum by (service) (rate(http_requests_total[5m]))"></textarea></label>`
    : '<span class="muted">Typed PromQL is off here: the reader sends credentials (server.analyze_any_query).</span>';
  const presets = rangePresets(p.stepSeconds, p.maxPoints);
  const body = `<form id="analyze-form" class="card">
<p><label>Signal <select name="signal">${options}${p.anyQuery ? '<option value="">PromQL below</option>' : ''}</select></label>
${query}</p>
<p><label>From (UTC) <input type="text" name="from" ${TIME_INPUT}></label>
<label>To (UTC) <input type="text" name="to" ${TIME_INPUT}></label>
<span class="presets">Last ${presets.offered.map(([h, l]) => `<button type="button" data-hours="${h}">${l}</button>`).join(' ')}</span>${presets.note ? ` <span class="muted" id="analyze-presets-note">(${escapeHtml(presets.note)})</span>` : ''}</p>
<p><button type="submit" class="approve" id="analyze-run">Analyse</button> <button type="button" id="analyze-csv">Download CSV</button>
<span class="muted">Step ${p.stepSeconds} s (scheduler.step); scored by the same code as <code>backtest --from --to</code>: each point only from the points before it.</span></p>
</form>
<p id="analyze-progress" hidden><progress max="1" value="0"></progress> <span></span></p>
<p id="analyze-status" class="muted"></p>
<div id="analyze-results"></div>`;
  return renderPage({
    title: 'anomaly-exporter · analyse',
    subtitle: `${escapeHtml(p.version)} · source ${escapeHtml(p.source)} · <a href="/">back to the live view</a>`,
    body,
    // Loads uPlot; the charts are drawn by the page's own script.
    chartData: {},
    scriptSrc: '/assets/analyze.js',
  });
}

/** The Analyse page's script (served as /assets/analyze.js: the CSP allows no inline script). */
export const ANALYZE_JS = `(function () {
  var form = document.getElementById('analyze-form');
  if (!form) return;
  var results = document.getElementById('analyze-results');
  var status = document.getElementById('analyze-status');
  var progress = document.getElementById('analyze-progress');
  var bar = progress.querySelector('progress');
  var barText = progress.querySelector('span');
  var toInput = function (d) { return d.toISOString().slice(0, 16).replace('T', ' '); };
  var fromInput = function (v) { return v.trim().replace(' ', 'T') + ':00Z'; };
  var setRange = function (hours) {
    var to = new Date();
    form.to.value = toInput(to);
    form.from.value = toInput(new Date(to.getTime() - hours * 3600e3));
  };
  setRange(Number((document.querySelector('[data-hours="6"]') || document.querySelector('[data-hours]') || { getAttribute: function () { return 1; } }).getAttribute('data-hours')));
  document.querySelectorAll('[data-hours]').forEach(function (b) {
    b.addEventListener('click', function () { setRange(Number(b.getAttribute('data-hours'))); });
  });
  var say = function (text) { status.textContent = text; };
  var request = function (format) {
    var signal = form.signal.value;
    return JSON.stringify({ signal: signal || undefined, query: signal || !form.query ? undefined : form.query.value, from: fromInput(form.from.value), to: fromInput(form.to.value), format: format });
  };
  var AXIS_FONT = '12px sans-serif';
  var num = function (v) { return v === 0 ? '0' : Math.abs(v) < 1e-4 ? v.toPrecision(3) : String(Number(v.toPrecision(4))); };
  // The browser's copy of common/units.ts formatWithUnit (this script cannot import it); keep them alike.
  var withUnit = function (v, unit) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (unit === 'seconds') return a === 0 ? '0 s' : a < 1e-3 ? num(v * 1e6) + ' µs' : a < 1 ? num(v * 1e3) + ' ms' : a < 120 ? num(v) + ' s' : num(v / 60) + ' min';
    if (unit === 'ratio') return num(v * 100) + ' %';
    if (unit === 'percent') return num(v) + ' %';
    if (unit === 'bytes') { var k = 0, x = v, u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']; while (Math.abs(x) >= 1024 && k < 4) { x /= 1024; k++; } return num(x) + ' ' + u[k]; }
    return unit ? num(v) + ' ' + unit : num(v);
  };
  var labelText = function (l) { return Object.keys(l).map(function (k) { return k + '="' + l[k] + '"'; }).join(', ') || '(no labels)'; };
  var table;
  var addSeries = function (m, index) {
    if (!table) {
      table = document.createElement('table');
      table.id = 'analyze-summary';
      table.innerHTML = '<tr><th>series</th><th>points</th><th>flagged (alerting score &gt; 1)</th><th>highest alerting score</th></tr>';
      results.appendChild(table);
    }
    var max = m.score.reduce(function (a, v) { return v !== null && v > a ? v : a; }, 0);
    var row = table.insertRow();
    row.className = 'analyzed' + (m.flagged ? ' anomalous' : '');
    [labelText(m.labels), String(m.ts.length), String(m.flagged), num(max)].forEach(function (t, i) {
      var c = row.insertCell(); c.textContent = t; if (i) c.className = 'num' + (i === 2 && m.flagged ? ' bad' : '');
    });
    var card = document.createElement('div');
    card.className = 'card series-chart';
    var h = document.createElement('h3');
    h.textContent = m.signal + ' · ' + labelText(m.labels) + (m.unit ? ' (' + m.unit + ')' : '');
    card.appendChild(h);
    // Operator feedback about this series (Alertmanager silences with a marker), taken in by the scores.
    (m.feedback || []).forEach(function (f) {
      var p = document.createElement('p');
      p.className = 'muted feedback-mark';
      p.textContent = (f.kind === 'maintenance' ? 'maintenance window ' : 'marked not an anomaly ') + f.from.replace('T', ' ').slice(0, 19) + ' to ' + (f.to ? f.to.replace('T', ' ').slice(0, 19) : 'open') + ' UTC by ' + f.by;
      card.appendChild(p);
    });
    var valueDiv = document.createElement('div');
    valueDiv.setAttribute('data-analyze', 'value');
    var scoreDiv = document.createElement('div');
    scoreDiv.setAttribute('data-analyze', 'score');
    card.appendChild(valueDiv);
    card.appendChild(scoreDiv);
    results.appendChild(card);
    var width = Math.min(1200, results.clientWidth || 1000);
    var flaggedValues = m.value.map(function (v, i) { return m.score[i] !== null && m.score[i] > 1 ? v : null; });
    // Times in UTC, 24-hour, as the range fields: HH:MM, and MM-DD at midnight.
    var utc = function (v) { var s = new Date(v * 1000).toISOString(); return s.slice(11, 16) === '00:00' ? s.slice(5, 10) : s.slice(11, 16); };
    var timeAxis = function (div) {
      return { values: function (u, splits) { var t = splits.map(utc); div.setAttribute('data-x-ticks', t.join('|')); return t; } };
    };
    var timeSeries = { value: function (u, v) { return v === null || v === undefined ? '--' : new Date(v * 1000).toISOString().slice(0, 19).replace('T', ' ') + ' UTC'; } };
    // A y axis as wide as its widest tick label (measured in the axis' font) plus the tick, gap and
    // axis label, so neither is cut; the ticks and the width drawn are kept on the element.
    var measure = document.createElement('canvas').getContext('2d');
    measure.font = AXIS_FONT;
    var yAxis = function (div, label, format) {
      return {
        font: AXIS_FONT, label: label, labelSize: 18, labelFont: 'bold ' + AXIS_FONT,
        size: function (u, values) {
          var widest = 0;
          (values || []).forEach(function (t) { widest = Math.max(widest, measure.measureText(t).width); });
          return Math.max(50, Math.ceil(widest) + 10 + 5 + 18 + 6);
        },
        values: function (u, splits) { var t = splits.map(format); div.setAttribute('data-y-ticks', t.join('|')); return t; }
      };
    };
    var drawn = function (div) { return [function (u) { div.setAttribute('data-y-size', String(u.axes[1]._size)); }]; };
    new uPlot({
      width: width, height: 220, legend: { show: true }, scales: { x: { time: true } },
      // The value axis in the signal's unit; its tick labels are also kept on the element (canvas text cannot be read back).
      axes: [timeAxis(valueDiv), yAxis(valueDiv, m.unit ? 'value (' + m.unit + ')' : 'value', function (v) { return withUnit(v, m.unit); })],
      series: [timeSeries, { label: 'value', stroke: '#1f6feb', width: 1.5 }, { label: 'lower', stroke: '#9fb3c8', width: 1 }, { label: 'upper', stroke: '#9fb3c8', width: 1 },
        { label: 'flagged', stroke: '#cf222e', width: 0, points: { show: true, size: 7, fill: '#cf222e', stroke: '#cf222e' } }],
      bands: [{ series: [3, 2], fill: 'rgba(31,111,235,0.12)' }],
      hooks: { draw: drawn(valueDiv) }
    }, [m.ts, m.value, m.lower, m.upper, flaggedValues], valueDiv);
    new uPlot({
      width: width, height: 120, legend: { show: true }, scales: { x: { time: true }, y: { range: function (u, min, max) { var top = Math.max(1.5, max * 1.1); return [-0.04 * top, top]; } } },
      axes: [timeAxis(scoreDiv), yAxis(scoreDiv, 'score', num)],
      series: [timeSeries, { label: 'alerting score', stroke: '#cf222e', width: 1.5 }, { label: 'threshold', stroke: '#888', width: 1, dash: [4, 3] }],
      hooks: { draw: drawn(scoreDiv) }
    }, [m.ts, m.score, m.ts.map(function () { return 1; })], scoreDiv);
    valueDiv.setAttribute('data-drawn', '1');
    scoreDiv.setAttribute('data-drawn', '1');
  };
  var handle = function (line) {
    if (!line) return;
    var m = JSON.parse(line);
    if (m.type === 'start') {
      progress.hidden = false; bar.value = 0;
      barText.textContent = '0 of ' + m.series + ' series scored';
      say('Reading done: ' + m.series + ' series of ' + Math.round((m.to - m.from) / m.step + 1) + ' steps (' + m.step + ' s); scoring…');
      if (m.series === 0) say('The query returned no series in this range.');
    } else if (m.type === 'series') addSeries(m);
    else if (m.type === 'progress') { bar.value = m.done / m.total; barText.textContent = m.done + ' of ' + m.total + ' series scored'; }
    else if (m.type === 'done') {
      progress.hidden = true;
      say(m.series === 0 ? 'The query matched nothing in this range: no series to score.' : m.series + ' series scored in ' + m.seconds + ' s.');
      results.setAttribute('data-done', '1');
    }
    else if (m.type === 'error') { progress.hidden = true; say('Error: ' + m.error); results.setAttribute('data-done', '1'); }
  };
  var failed = function (res) {
    return res.json().then(function (j) { return j.error; }, function () { return res.status + ' ' + res.statusText; }).then(function (e) { say('Error: ' + e); results.setAttribute('data-done', '1'); });
  };
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    results.textContent = ''; results.removeAttribute('data-done'); table = undefined;
    say('Reading from the source…');
    fetch('/api/v1/analyze', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: request() }).then(function (res) {
      if (!res.ok) return failed(res);
      var reader = res.body.getReader(), dec = new TextDecoder(), buf = '';
      var pump = function () {
        return reader.read().then(function (r) {
          if (r.done) { handle(buf); return; }
          buf += dec.decode(r.value, { stream: true });
          var lines = buf.split('\\n'); buf = lines.pop();
          lines.forEach(handle);
          return pump();
        });
      };
      return pump();
    }).catch(function (err) { say('Error: ' + err.message); });
  });
  document.getElementById('analyze-csv').addEventListener('click', function () {
    say('Preparing the CSV…');
    fetch('/api/v1/analyze', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: request('csv') }).then(function (res) {
      if (!res.ok) return failed(res);
      return res.blob().then(function (blob) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = 'analysis-' + (form.signal.value || 'query') + '.csv';
        document.body.appendChild(a); a.click(); a.remove();
        say('CSV downloaded.');
      });
    });
  });
})();
`;
