/**
 * Config reload on the running daemons (the built CLI), as Prometheus users expect it: SIGHUP,
 * `POST /-/reload` (only with --web.enable-lifecycle, never from another site) and
 * `--watch-config` following a Kubernetes-style ConfigMap update (a swapped `..data` symlink).
 * A bad file keeps the running config, is logged as `file: field: reason` and sets
 * `*_config_last_reload_successful 0`; an unchanged signal keeps its models (no refit).
 */
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { freePort, waitFor } from './stack';
import { FunctionSource, startFunctionSource } from './doubles/function-source';
import { CliDaemon, killCli, requireBuiltCli, sampleValue, spawnCli } from './doubles/cli-daemon';

jest.setTimeout(120_000);

const FUNCS: Record<string, (t: number) => number> = {
  latency_q: (t) => 0.2 + 0.05 * Math.sin(t / 600),
  traffic_q: (t) => 50 + 10 * Math.cos(t / 900),
  errors_q: (t) => 0.01 + 0.002 * Math.sin(t / 300),
};

let source: FunctionSource;
let sourceUrl: string;

function exporterConfig(listen: string, signals: Record<string, string>): string {
  const lines = Object.entries(signals).map(([name, query]) => `    ${name}: {query: '${query}'}`);
  return `reader:
  url: ${sourceUrl}
  timeout: 2s
  retries: 0
  signals:
${lines.join('\n')}
scheduler: {step: 2s, infer_every: 2s, fit_window: 1h, fit_every: 1h}
server: {listen: "${listen}"}
logging: {level: info}
`;
}

async function metrics(d: CliDaemon): Promise<string> {
  return (await axios.get(`${d.url}/metrics`, { timeout: 2000 })).data as string;
}

beforeAll(async () => {
  requireBuiltCli();
  source = await startFunctionSource(FUNCS);
  sourceUrl = source.url;
});

afterAll(async () => {
  await source?.stop();
});

describe('exporter config reload', () => {
  let d: CliDaemon;
  let file: string;
  let listen: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-reload-'));
    file = join(dir, 'anomaly-exporter.yml');
    const port = await freePort();
    listen = `127.0.0.1:${port}`;
    writeFileSync(file, exporterConfig(listen, { latency: 'latency_q', traffic: 'traffic_q' }));
    d = spawnCli(['run', '--config', file, '--web.enable-lifecycle'], `http://${listen}`);
    await waitFor(
      'both signals scored',
      async () => {
        const m = await metrics(d).catch(() => '');
        return m.includes('anomaly_score{service="b",signal="latency",model="ensemble"}') && m.includes('signal="traffic",model="ensemble"}');
      },
      40_000,
    );
  });

  afterAll(async () => {
    if (d) await killCli(d);
  });

  it('SIGHUP applies a new signal set: the unchanged signal keeps its models, the removed one leaves /metrics, the new one is scored', async () => {
    const before = await metrics(d);
    expect(sampleValue(before, 'anomaly_exporter_config_last_reload_successful')).toBe(1);
    const latencyFits = sampleValue(before, 'anomaly_exporter_fit_duration_seconds_count{signal="latency"}');
    expect(latencyFits).toBeGreaterThanOrEqual(1);
    const successAt = sampleValue(before, 'anomaly_exporter_config_last_reload_success_timestamp_seconds')!;

    writeFileSync(file, exporterConfig(listen, { latency: 'latency_q', errors: 'errors_q' }));
    d.child.kill('SIGHUP');
    await waitFor(
      'the errors signal scored and traffic gone',
      async () => {
        const m = await metrics(d);
        return m.includes('signal="errors",model="ensemble"}') && !m.includes('signal="traffic"');
      },
      30_000,
    );
    const after = await metrics(d);
    // Kept whole: not refitted, still scored.
    expect(sampleValue(after, 'anomaly_exporter_fit_duration_seconds_count{signal="latency"}')).toBe(latencyFits);
    expect(after).toContain('anomaly_score{service="a",signal="latency",model="ensemble"}');
    expect(sampleValue(after, 'anomaly_exporter_config_last_reload_successful')).toBe(1);
    expect(sampleValue(after, 'anomaly_exporter_config_last_reload_success_timestamp_seconds')).toBeGreaterThan(successAt);
    const note = d.logs.find((l) => l.includes('signals after reload'));
    expect(note && JSON.parse(note)).toMatchObject({ kept: ['latency'], fresh: ['errors'] });
  });

  it('a bad file keeps the running config, names file, field and reason, and sets config_last_reload_successful 0', async () => {
    writeFileSync(file, exporterConfig(listen, { latency: 'latency_q', broken: 'rate(x[5m]' }));
    const cyclesBefore = sampleValue(await metrics(d), 'anomaly_exporter_cycles_total')!;
    d.child.kill('SIGHUP');
    await waitFor('the reload to fail', async () => sampleValue(await metrics(d), 'anomaly_exporter_config_last_reload_successful') === 0, 10_000);
    const line = d.logs.find((l) => l.includes('config reload failed'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).error).toContain(`${file}: reader.signals.broken.query: PromQL syntax error`);
    // Scoring goes on with the old config: both of its signals, no trace of the broken one.
    await waitFor('two more cycles', async () => sampleValue(await metrics(d), 'anomaly_exporter_cycles_total')! >= cyclesBefore + 2, 15_000);
    const m = await metrics(d);
    expect(m).toContain('signal="errors",model="ensemble"}');
    expect(m).not.toContain('signal="broken"');
  });

  it('POST /-/reload answers with the outcome; a cross-site request is refused; a listen change needs a restart', async () => {
    const bad = await axios.post(`${d.url}/-/reload`, '', { validateStatus: () => true });
    expect(bad.status).toBe(500);
    expect(bad.data).toContain('reader.signals.broken.query');

    writeFileSync(file, exporterConfig('127.0.0.1:1', { latency: 'latency_q', errors: 'errors_q' }));
    const crossSite = await axios.post(`${d.url}/-/reload`, '', { headers: { 'Sec-Fetch-Site': 'cross-site' }, validateStatus: () => true });
    expect(crossSite.status).toBe(403);
    expect(sampleValue(await metrics(d), 'anomaly_exporter_config_last_reload_successful')).toBe(0);

    const ok = await axios.post(`${d.url}/-/reload`, '', { validateStatus: () => true });
    expect(ok.status).toBe(200);
    expect(ok.data).toContain('need a restart: server.listen');
    expect(sampleValue(await metrics(d), 'anomaly_exporter_config_last_reload_successful')).toBe(1);
    // Still on the old address.
    expect((await axios.get(`${d.url}/healthz`)).status).toBe(200);
  });
});

describe('lifecycle API and --watch-config', () => {
  it('without --web.enable-lifecycle /-/reload is 403; --watch-config follows a ConfigMap symlink swap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-reload-cm-'));
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    // The layout kubelet gives a mounted ConfigMap: file → ..data/file, ..data → ..<timestamp>.
    const version = (n: number, signals: Record<string, string>) => {
      mkdirSync(join(dir, `..v${n}`));
      writeFileSync(join(dir, `..v${n}`, 'config.yml'), exporterConfig(listen, signals));
      symlinkSync(`..v${n}`, join(dir, `..data_tmp`));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    version(1, { latency: 'latency_q' });
    symlinkSync('..data/config.yml', join(dir, 'config.yml'));
    const d = spawnCli(['run', '--config', join(dir, 'config.yml'), '--watch-config'], `http://${listen}`);
    try {
      await waitFor('latency scored', async () => (await metrics(d).catch(() => '')).includes('signal="latency",model="ensemble"}'), 40_000);
      const refused = await axios.post(`${d.url}/-/reload`, '', { validateStatus: () => true });
      expect(refused.status).toBe(403);
      expect(refused.data).toContain('--web.enable-lifecycle');

      version(2, { latency: 'latency_q', traffic: 'traffic_q' });
      await waitFor('traffic scored after the swap', async () => (await metrics(d)).includes('signal="traffic",model="ensemble"}'), 30_000);
      expect(d.logs.some((l) => l.includes('config reloaded') && l.includes('"trigger":"watch"'))).toBe(true);

      // A bad version is reported once, not on every look at the file.
      mkdirSync(join(dir, '..v3'));
      writeFileSync(join(dir, '..v3', 'config.yml'), 'reader: [\n');
      symlinkSync('..v3', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await waitFor('the reload to fail', async () => sampleValue(await metrics(d), 'anomaly_exporter_config_last_reload_successful') === 0, 15_000);
      await new Promise((r) => setTimeout(r, 7000));
      expect(d.logs.filter((l) => l.includes('config reload failed')).length).toBe(1);
      expect((await metrics(d)).includes('signal="traffic",model="ensemble"}')).toBe(true);
    } finally {
      await killCli(d);
    }
  });
});

describe('receiver config reload', () => {
  function receiverConfig(listen: string, store: string, runbookMatch: string, mode = 'dry_run'): string {
    return `listen: ${listen}
auth: {type: none}
mode: ${mode}
store: {path: ${store}}
http_allowlist: [127.0.0.1:1]
runbooks:
  - name: restart-${runbookMatch.toLowerCase()}
    match: ['alertname="${runbookMatch}"']
    target_label: service
    steps:
      - type: log
        message: would restart
logging: {level: info}
`;
  }

  function alert(name: string, service: string) {
    return {
      version: '4',
      groupKey: `{}:{alertname="${name}"}`,
      status: 'firing',
      receiver: 'remediation',
      groupLabels: { alertname: name },
      commonLabels: { alertname: name },
      commonAnnotations: {},
      externalURL: 'http://alertmanager',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: name, service, severity: 'warning' },
          annotations: {},
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus',
          fingerprint: Buffer.from(`${name}-${service}`).toString('hex'),
        },
      ],
    };
  }

  it('SIGHUP and /-/reload swap runbooks and mode for the next alert; a bad file keeps the old ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-reload-rx-'));
    const file = join(dir, 'receiver.yml');
    const store = join(dir, 'receiver.db');
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    writeFileSync(file, receiverConfig(listen, store, 'Alpha'));
    const d = spawnCli(['receiver', '--config', file, '--web.enable-lifecycle'], `http://${listen}`);
    try {
      await waitFor('the receiver', async () => (await axios.get(`${d.url}/healthz`).catch(() => undefined))?.status === 200, 20_000, 100);
      const post = async (name: string, service: string) =>
        (await axios.post(`${d.url}/webhook/alertmanager`, alert(name, service))).data as { decisions: { decision: string; runbook: string | null }[] };
      expect((await post('Beta', 's1')).decisions[0]).toMatchObject({ decision: 'no_runbook' });

      writeFileSync(file, receiverConfig(listen, store, 'Beta'));
      d.child.kill('SIGHUP');
      await waitFor('the reload', async () => d.logs.some((l) => l.includes('config reloaded')), 10_000, 100);
      expect((await post('Beta', 's2')).decisions[0]).toMatchObject({ decision: 'dry_run', runbook: 'restart-beta' });

      writeFileSync(file, receiverConfig(listen, store, 'Gamma', 'yolo'));
      const bad = await axios.post(`${d.url}/-/reload`, '', { validateStatus: () => true });
      expect(bad.status).toBe(500);
      expect(bad.data).toContain(`${file}: mode:`);
      const m = (await axios.get(`${d.url}/metrics`)).data as string;
      expect(sampleValue(m, 'remediation_config_last_reload_successful')).toBe(0);
      expect((await post('Beta', 's3')).decisions[0]).toMatchObject({ decision: 'dry_run', runbook: 'restart-beta' });
    } finally {
      await killCli(d);
    }
  });
});
