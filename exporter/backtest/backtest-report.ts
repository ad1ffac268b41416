import { escapeHtml, scriptJson, uplotAssets } from '../../common/web';
import { BacktestScores } from './backtest';

export interface ReportSeries {
  name: string;
  /** Seconds. */
  times: Float64Array;
  values: Float64Array;
  scores: BacktestScores;
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : null);

/**
 * A self-contained HTML page: per series, the value with the expected band and the flagged
 * points (score above 1), and the score with the threshold line at 1, drawn with uPlot.
 */
export function renderReport(series: ReportSeries[], title: string): string {
  const { js, css } = uplotAssets();
  const rows = series.map((s, i) => {
    const flagged = s.scores.score.reduce((a, v) => a + (v > 1 ? 1 : 0), 0);
    const max = s.scores.score.reduce((a, v) => Math.max(a, v), 0);
    return `<tr><td><a href="#s${i}">${escapeHtml(s.name)}</a></td><td>${s.values.length}</td><td>${s.scores.stepSeconds} s</td><td>${flagged}</td><td>${max.toFixed(2)}</td></tr>`;
  });
  const data = series.map((s) => {
    const n = s.values.length;
    const flaggedValues = new Array<number | null>(n);
    for (let i = 0; i < n; i++) flaggedValues[i] = s.scores.score[i] > 1 ? finiteOrNull(s.values[i]) : null;
    return {
      name: s.name,
      t: Array.from(s.times),
      value: Array.from(s.values, finiteOrNull),
      lower: Array.from(s.scores.lower, finiteOrNull),
      upper: Array.from(s.scores.upper, finiteOrNull),
      flagged: flaggedValues,
      score: Array.from(s.scores.score, finiteOrNull),
    };
  });
  const sections = series.map(
    (s, i) => `<section id="s${i}"><h2>${escapeHtml(s.name)}</h2><div class="chart" id="v${i}"></div><div class="chart" id="c${i}"></div></section>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${css}
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}h1{overflow-wrap:anywhere}table{border-collapse:collapse}td,th{padding:.2rem .8rem;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
section{margin-top:2rem}.chart{margin:.5rem 0}.legend{color:#555;font-size:.9rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
<p class="legend">Blue: the value. Grey band: the expected band (score 1 at its edges). Red dots: points scored above 1.
Lower chart: the ensemble anomaly score; the dashed line is the threshold, 1.</p>
<table><tr><th>series</th><th>rows</th><th>step</th><th>rows above 1</th><th>max score</th></tr>${rows.join('')}</table>
${sections.join('\n')}
<script>${js}</script>
<script>
const DATA = ${scriptJson(data)};
const width = () => Math.min(1200, document.body.clientWidth - 20);
const compact = (v) => v == null ? '' : Math.abs(v) >= 1e6 ? (v / 1e6).toPrecision(3) + 'M' : Math.abs(v) >= 1e3 ? (v / 1e3).toPrecision(3) + 'k' : String(Number(v.toPrecision(4)));
const yAxis = {size: 64, values: (u, vals) => vals.map(compact)};
DATA.forEach((d, i) => {
  new uPlot({
    width: width(), height: 260, scales: {x: {time: true}}, axes: [{}, yAxis],
    series: [{}, {label: 'lower', stroke: '#bbb'}, {label: 'upper', stroke: '#bbb'}, {label: 'value', stroke: '#1f77b4', width: 1},
      {label: 'score > 1', stroke: 'transparent', points: {show: true, size: 6, fill: '#d62728', stroke: '#d62728'}}],
    bands: [{series: [2, 1], fill: 'rgba(120,120,120,0.18)'}],
  }, [d.t, d.lower, d.upper, d.value, d.flagged], document.getElementById('v' + i));
  new uPlot({
    width: width(), height: 160, scales: {x: {time: true}}, axes: [{}, yAxis],
    series: [{}, {label: 'anomaly score', stroke: '#ff7f0e', width: 1}, {label: 'threshold', stroke: '#d62728', dash: [6, 4]}],
  }, [d.t, d.score, d.t.map(() => 1)], document.getElementById('c' + i));
});
</script></body></html>
`;
}
