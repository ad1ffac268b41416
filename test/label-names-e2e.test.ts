/**
 * A source whose label names the exposition format does not allow ("bad-name", "dotted.name" as
 * Prometheus 3 allows, "0digit", an empty name): the exporter's /metrics still passes
 * `promtool check metrics`, so Prometheus keeps every score; a lone surrogate in a label value
 * does not break the web page.
 */
import axios from 'axios';
import { silentLogger } from '../common/logger';
import { promtoolCheckMetrics } from '../demo/local-stack';
import { parseConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { MemoryReader } from '../exporter/read/memory-reader';
import { freePort, waitFor } from './stack';

jest.setTimeout(60_000);

it('publishes label names the source should not have had in a form promtool accepts', async () => {
  const now = Math.floor(Date.now() / 1000);
  // Five minutes of history and two ahead, served as time reaches them.
  const ts = Float64Array.from({ length: 420 }, (_, i) => now - 299 + i);
  const reader = new MemoryReader();
  const labels = { service: 'checkout', 'bad-name': 'a', 'dotted.name': 'b', '0digit': 'c', '': 'd', bad_name: 'kept first?', model: 'm' };
  reader.set('q', [
    { labels, timestamps: ts, values: Float64Array.from(ts, (_, i) => 10 + Math.sin(i)) },
    // A lone surrogate in a label value (possible in JSON): once made the web page answer 500.
    { labels: { service: 'lone\uD800surrogate' }, timestamps: ts, values: Float64Array.from(ts, (_, i) => 10 + Math.cos(i)) },
  ]);
  const port = await freePort();
  const exporter = new ExporterDaemon(
    parseConfig(
      `reader:\n  url: http://127.0.0.1:1\n  signals:\n    latency: {query: q}\nscheduler: {step: 1s, infer_every: 1s, fit_every: 10m, fit_window: 5m}\nserver: {listen: "127.0.0.1:${port}"}\n`,
      'labels.yml',
    ),
    { logger: silentLogger(), version: 'test', reader },
  );
  await exporter.start();
  try {
    let text = '';
    await waitFor(
      'a score for the series',
      async () => {
        text = String((await axios.get(`http://127.0.0.1:${port}/metrics`, { responseType: 'text' })).data);
        return text.includes('anomaly_score{');
      },
      30_000,
      250,
    ).catch((err) => {
      throw new Error(
        `${(err as Error).message}\n${text
          .split('\n')
          .filter((l) => l.startsWith('anomaly_exporter'))
          .join('\n')}`,
      );
    });
    const line = text.split('\n').find((l) => l.startsWith('anomaly_observed_value{'))!;
    expect(line).toContain('bad_name="a"');
    expect(line).toContain('dotted_name="b"');
    expect(line).toContain('_0digit="c"');
    expect(line).toContain('exported_model="m"');
    expect(line).not.toContain('="d"');
    const page = await axios.get(`http://127.0.0.1:${port}/`, { validateStatus: () => true });
    expect(page.status).toBe(200);
    expect(page.data).toContain('service=lone%EF%BF%BDsurrogate');
    const check = promtoolCheckMetrics(text);
    expect(check.output).toBe('');
    expect(check.ok).toBe(true);
  } finally {
    await exporter.stop();
  }
});
