/** The exporter's page as a reader sees it: units on every value, the alerting score named, chart spans, a plain diagonal. */
import { silentLogger } from '../../common/logger';
import { parseConfig } from '../config/config';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { MemoryReader } from '../read/memory-reader';
import { renderExporterPage } from './web-page';

const STEP = 60;
const T0 = 1_700_000_000 - (1_700_000_000 % STEP);

it('writes values in their units, names the alerting score, gives chart spans and leaves the correlation diagonal uncoloured', async () => {
  const config = parseConfig(
    `reader:
  url: http://unused:9090
  group_by: [service]
  signals:
    latency: {query: lat, unit: seconds}
    errors: {query: err, unit: ratio}
    traffic: {query: traf}
scheduler: {step: 1m, infer_every: 1m, fit_every: 1h, fit_window: 6h}
correlation: {min_samples: 5}
`,
    't.yml',
  );
  const reader = new MemoryReader();
  const n = 400;
  const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * STEP);
  const wave = (base: number, amp: number) => Float64Array.from(ts, (_, i) => base + amp * Math.sin(i / 7) + amp * 0.3 * Math.cos(i * 1.3));
  reader.set('lat', [{ labels: { service: 'checkout' }, timestamps: ts, values: wave(0.02361, 0.002) }]);
  reader.set('err', [{ labels: { service: 'checkout' }, timestamps: ts, values: wave(0.012, 0.001) }]);
  reader.set('traf', [{ labels: { service: 'checkout' }, timestamps: ts, values: wave(50, 5) }]);
  const p = new ScoringPipeline(config, reader, silentLogger());
  for (let k = 360; k < 400; k++) await p.runOnce(new Date((T0 + k * STEP) * 1000), new AbortController().signal);
  const html = renderExporterPage({
    snapshot: p.snapshot,
    historyOf: (r) => p.historyOf(r),
    description: { signals: ['latency', 'errors', 'traffic'], source: 'http://unused:9090', version: 't' },
    units: { latency: 'seconds', errors: 'ratio' },
    historySpanSeconds: 3600,
    groupBy: ['service'],
    refreshSeconds: 60,
  });
  const row = (signal: string) => html.split('<tr class="signal').find((r) => r.includes(`<td>${signal}`))!;
  expect(row('latency')).toMatch(/<td class="num">2\d\.\d+ ms<\/td>/);
  expect(row('latency')).toMatch(/\(\d+(\.\d+)? ms to \d+(\.\d+)? ms\)/);
  expect(row('errors')).toMatch(/<td class="num">1\.\d+ %<\/td>/);
  expect(row('traffic')).toMatch(/<td class="num">\d+(\.\d+)?<\/td>/);
  expect(html).toContain('alerting score<br><span class="muted">ensemble, &gt; 1 is anomalous</span>');
  // 40 cycles scored: the charts cover 39 minutes of the 60 the history holds.
  expect(html).toContain('value and band, last 39 min');
  // The diagonal is 1 by definition: shown plain; off-diagonal cells keep their shade.
  expect(html.match(/<td class="corr diag muted">1<\/td>/g)).toHaveLength(3);
  expect(html.match(/<td class="corr [pn]\d+">-?\d\.\d\d<\/td>/g)).toHaveLength(6);
});
