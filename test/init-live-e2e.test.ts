/**
 * `init` against a Prometheus scraping real exporters from Debian's packages: node_exporter, NGINX
 * behind the NGINX exporter, and the demo service (a Prometheus client library). init finds the
 * three presets in what they publish, the config passes `check --source`, and `run` with it scores
 * every signal init named (with a 1-second step, so the models fit on the minute the test has).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { CLI, CliDaemon, killCli, requireBuiltCli, spawnCli } from './doubles/cli-daemon';
import { checkWithSource, metricsWithScores } from './doubles/exporter-run';
import {
  freePort,
  PrometheusProcess,
  promtoolCheckMetrics,
  scrapeJob,
  ServedProcess,
  startNginx,
  startNginxExporter,
  startNodeExporter,
  startPrometheus,
  waitFor,
} from './stack';

describe('init against live exporters from Debian packages', () => {
  const served: ServedProcess[] = [];
  let demo: CliDaemon;
  let prom: PrometheusProcess;
  let dir: string;

  beforeAll(async () => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), 'ae-init-live-'));
    const node = await startNodeExporter();
    served.push(node);
    const nginx = await startNginx();
    served.push(nginx);
    const nginxExporter = await startNginxExporter(nginx.statusUrl);
    served.push(nginxExporter);
    const demoPort = await freePort();
    demo = spawnCli(['demo-service', '--listen', `127.0.0.1:${demoPort}`], `http://127.0.0.1:${demoPort}`);
    await waitFor('the demo service', async () => (await axios.get(`${demo.url}/metrics`, { validateStatus: () => true })).status === 200, 20_000);
    prom = await startPrometheus({
      scrapeConfigs: scrapeJob('node', node.address) + scrapeJob('nginx', nginxExporter.address) + scrapeJob('demo', `127.0.0.1:${demoPort}`),
    });
    // Every target scraped twice at least, so rates have two samples.
    await waitFor(
      'three targets up and scraped twice',
      async () => (await prom.query('count(count_over_time(up[1m]) >= 2)'))[0]?.value[1] === '3',
      30_000,
      250,
    );
  }, 90_000);

  afterAll(async () => {
    if (demo) await killCli(demo);
    await prom?.stop();
    for (const s of served.reverse()) await s.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the three presets, writes a config check --source takes, and run scores every signal it named', async () => {
    const out = join(dir, 'found.yml');
    execFileSync(process.execPath, [CLI, 'init', '--source', prom.url, '--out', out], { stdio: 'pipe' });
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^# +prometheus_http: .*grouped by service \(2 values now\)/m);
    expect(text).toMatch(/^# +nginx: .*grouped by instance \(1 value now\)/m);
    expect(text).toMatch(/^# +node_exporter: .*grouped by instance \(1 value now\)/m);
    expect(text).toContain('group_by: [service, instance]');

    const { output: check, signals } = checkWithSource(out, prom.url);
    // The demo's latency, traffic and errors; nginx's traffic, connections, dropped and up; node's cpu, load, memory, network at least.
    expect(signals).toEqual(
      expect.arrayContaining(['latency', 'errors', 'prometheus_http_traffic', 'nginx_traffic', 'connections', 'up', 'cpu', 'load', 'memory', 'network']),
    );
    expect(check).toMatch(new RegExp(`valid \\(${signals.length} signals`));

    // The written config as it is, but with a 1-second step: its models fit on the minute there is.
    appendFileSync(out, 'scheduler: {step: 1s, infer_every: 2s, fit_every: 1m, fit_window: 10m}\n');
    const metrics = await metricsWithScores(out, signals, 60_000);
    const promtool = promtoolCheckMetrics(metrics);
    expect(promtool.output).toBe('');
    expect(promtool.ok).toBe(true);
  }, 120_000);
});
