/**
 * What the exporter's and the receiver's web pages share: HTML escaping, JSON safe inside a
 * <script>, uPlot (MIT) served from node_modules (no network needed), the page frame and its CSS,
 * and the small client script that draws the charts.
 */
import { readFileSync } from 'node:fs';
import express, { Router } from 'express';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

let uplot: { js: string; css: string } | undefined;
/** uPlot's script and stylesheet, read once from node_modules. */
export function uplotAssets(): { js: string; css: string } {
  if (!uplot) {
    const dir = require.resolve('uplot/dist/uPlot.iife.min.js').replace(/uPlot\.iife\.min\.js$/, '');
    uplot = { js: readFileSync(`${dir}uPlot.iife.min.js`, 'utf8'), css: readFileSync(`${dir}uPlot.min.css`, 'utf8') };
  }
  return uplot;
}

/**
 * Draws every element with data-chart="value|score|lines" from the JSON in #chart-data:
 * value: the value with its expected band shaded; score: the score with the line at 1;
 * lines: any named series over shared times. Marks each drawn element data-drawn="1".
 */
const CHARTS_JS = `(function () {
  var el = document.getElementById('chart-data');
  if (!el) return;
  var data = JSON.parse(el.textContent);
  var base = function (w, h) {
    return { width: w, height: h, legend: { show: false }, cursor: { show: false }, scales: { x: { time: true } },
      axes: [{ show: false }, { show: false }], series: [{}] };
  };
  document.querySelectorAll('[data-chart]').forEach(function (div) {
    var d = data[div.getAttribute('data-key')];
    var kind = div.getAttribute('data-chart');
    var w = Number(div.getAttribute('data-width') || 240), h = Number(div.getAttribute('data-height') || 56);
    if (!d || d.ts.length < 2) { div.textContent = 'collecting samples'; return; }
    var o = base(w, h), rows;
    if (kind === 'value') {
      o.series.push({ stroke: '#1f6feb', width: 1.5 }, { stroke: '#9fb3c8', width: 1 }, { stroke: '#9fb3c8', width: 1 });
      o.bands = [{ series: [3, 2], fill: 'rgba(31,111,235,0.12)' }];
      rows = [d.ts, d.value, d.lower, d.upper];
    } else if (kind === 'score') {
      o.series.push({ stroke: '#cf222e', width: 1.5 }, { stroke: '#888', width: 1, dash: [4, 3] });
      // Zero sits just above the bottom edge, so a calm (zero) score is a visible line, not a gap.
      o.scales.y = { range: function (u, min, max) { var top = Math.max(1.5, max * 1.1); return [-0.04 * top, top]; } };
      rows = [d.ts, d.score, d.ts.map(function () { return 1; })];
    } else {
      o.legend = { show: true };
      o.axes = [{}, {}];
      rows = [d.ts];
      d.series.forEach(function (s, i) {
        o.series.push({ label: s.name, stroke: ['#1f6feb', '#cf222e', '#2da44e', '#bf8700', '#8250df'][i % 5], width: 1.5 });
        rows.push(s.values);
      });
    }
    new uPlot(o, rows, div);
    div.setAttribute('data-drawn', '1');
  });
})();
`;

/** GET /assets/uplot.js, /assets/uplot.css and /assets/charts.js, cached by browsers for an hour. */
export function assetRouter(): Router {
  const r = express.Router();
  const send = (type: string, body: () => string) => (_req: express.Request, res: express.Response) => {
    res.type(type).set('Cache-Control', 'public, max-age=3600').send(body());
  };
  r.get(
    '/assets/uplot.js',
    send('application/javascript', () => uplotAssets().js),
  );
  r.get(
    '/assets/uplot.css',
    send('text/css', () => uplotAssets().css),
  );
  r.get(
    '/assets/charts.js',
    send('application/javascript', () => CHARTS_JS),
  );
  r.get(
    '/assets/page.css',
    send('text/css', () => CSS),
  );
  return r;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:10px 20px}header h1{font-size:18px;margin:0}header p{margin:2px 0 0;color:#c9d1d9;font-size:13px}
header a{color:#c9d1d9}main{padding:12px 20px;max-width:1400px}h2{font-size:16px;margin:18px 0 8px}h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;background:#fff;border:1px solid #d0d7de;margin-bottom:8px}th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:middle}
th{background:#f6f8fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#cf222e;font-weight:600}.ok{color:#1a7f37}
.pill{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;background:#eaeef2}.pill.firing,.pill.pending{background:#ffebe9;color:#cf222e}.pill.resolved{background:#dafbe1;color:#1a7f37}
.muted{color:#656d76}.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;margin-bottom:12px}
button{font:inherit;padding:3px 12px;border-radius:6px;border:1px solid #d0d7de;cursor:pointer;background:#f6f8fa}button.approve{background:#1f883d;color:#fff;border-color:#1a7f37}button.reject{background:#fff;color:#cf222e}
ol.timeline{list-style:none;padding-left:0;border-left:2px solid #d0d7de;margin-left:6px}ol.timeline li{padding:3px 0 3px 12px;position:relative}
ol.timeline li:before{content:"";position:absolute;left:-6px;top:9px;width:10px;height:10px;border-radius:50%;background:#8c959f}
ol.timeline li.firing:before{background:#cf222e}ol.timeline li.action:before{background:#1f6feb}ol.timeline li.resolved:before{background:#1a7f37}
td.corr{width:46px;text-align:center;font-variant-numeric:tabular-nums}pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;border-radius:6px}
${correlationShades()}`;

/** td.corr.p0 … p10 (red, positive) and n0 … n10 (blue, negative): the correlation shades in tenths. */
function correlationShades(): string {
  const rules: string[] = [];
  for (let t = 0; t <= 10; t++) {
    const a = ((t / 10) * 0.6).toFixed(2);
    rules.push(`td.corr.p${t}{background:rgba(207,34,46,${a})}`, `td.corr.n${t}{background:rgba(31,111,235,${a})}`);
  }
  return rules.join('');
}

export interface PageOptions {
  title: string;
  subtitle: string;
  body: string;
  /** Reload the page every this many seconds (0: never). */
  refreshSeconds?: number;
  /** Per chart key, its data (see CHARTS_JS). */
  chartData?: Record<string, unknown>;
  /** Path of an extra script (one of the daemon's own assets) run after the charts: the CSP allows no inline script. */
  scriptSrc?: string;
  /** <meta name=… content=…> elements (e.g. the CSRF token the page's script sends back). */
  meta?: Record<string, string>;
}

export function renderPage(o: PageOptions): string {
  const refresh = o.refreshSeconds ? `<meta http-equiv="refresh" content="${o.refreshSeconds}">` : '';
  const charts = o.chartData
    ? `<script id="chart-data" type="application/json">${scriptJson(o.chartData)}</script><script src="/assets/uplot.js"></script><script src="/assets/charts.js"></script>`
    : '';
  const meta = Object.entries(o.meta ?? {})
    .map(([name, content]) => `<meta name="${escapeHtml(name)}" content="${escapeHtml(content)}">`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${refresh}${meta}
<title>${escapeHtml(o.title)}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/uplot.css"><link rel="stylesheet" href="/assets/page.css"></head>
<body><header><h1>${escapeHtml(o.title)}</h1><p>${o.subtitle}</p></header><main>${o.body}</main>${charts}${o.scriptSrc ? `<script src="${escapeHtml(o.scriptSrc)}"></script>` : ''}</body></html>\n`;
}
