/**
 * VictoriaMetrics as the source and the rule engine, from Debian's victoria-metrics package: the
 * reader on its query API (imported samples read back exactly, under its /prometheus prefix too,
 * and why reader.query_offset exists), the shipped rules accepted by vmalert, and the demo's whole
 * loop with VictoriaMetrics scraping, vmalert evaluating and sending to Alertmanager, and the
 * receiver acting (`npm run demo -- --source victoria-metrics --once --json`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STEPS } from '../demo/loop-timeline';
import { PrometheusReader } from '../exporter/read/prometheus-reader';
import { requireBinary } from '../demo/local-stack';
import { startVictoriaMetrics } from '../demo/victoria-metrics';
import { PrometheusProcess } from './stack';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..');

describe('the reader on VictoriaMetrics', () => {
  let vm: PrometheusProcess;
  const END = Math.floor(Date.now() / 1000 / 60) * 60 - 600;
  const START = END - 299 * 10;

  beforeAll(async () => {
    let om = '';
    for (let i = 0; i < 300; i++) for (const s of ['a', 'b']) om += `vm_value{service="${s}"} ${s === 'a' ? i * 0.25 : -i} ${START + i * 10}\n`;
    vm = await startVictoriaMetrics({ history: om });
  });

  afterAll(async () => {
    await vm?.stop();
  });

  it('reads imported samples back exactly, at the root and under the /prometheus prefix', async () => {
    for (const url of [vm.url, `${vm.url}/prometheus`]) {
      const reader = new PrometheusReader({ url, timeoutMs: 10_000, retries: 0, headers: {}, maxPointsPerQuery: 11_000 });
      const series = await reader.queryRange(
        { signal: 'v', query: 'vm_value', startSeconds: START, endSeconds: END, stepSeconds: 10 },
        new AbortController().signal,
      );
      const byService = Object.fromEntries(series.map((s) => [s.labels.service, s]));
      expect(Object.keys(byService).sort()).toEqual(['a', 'b']);
      expect(byService.a.timestamps[0]).toBe(START);
      expect(byService.a.timestamps[299]).toBe(END);
      expect(Array.from(byService.a.values)).toEqual(Array.from({ length: 300 }, (_, i) => i * 0.25));
      expect(Array.from(byService.b.values)).toEqual(Array.from({ length: 300 }, (_, i) => 0 - i));
      // One answer, one time grid: the parser shares it.
      expect(byService.a.timestamps).toBe(byService.b.timestamps);
    }
  });

  it('answers a query it refuses as a promql error, with its message', async () => {
    const reader = new PrometheusReader({ url: vm.url, timeoutMs: 10_000, retries: 0, headers: {}, maxPointsPerQuery: 11_000 });
    const err = await reader
      .queryRange({ signal: 'v', query: 'sum(', startSeconds: START, endSeconds: END, stepSeconds: 10 }, new AbortController().signal)
      .catch((e) => e);
    expect(err.kind).toBe('promql');
    expect(err.message).toMatch(/^signal v: /);
  });
});

describe('the shipped rules on vmalert', () => {
  const vmalert = () => requireBinary('vmalert', 'victoria-metrics');
  const rules = ['anomaly-alerts.yml', 'recording.yml', 'service-alerts.yml'].map((f) => join(ROOT, 'prometheus', 'rules', f));

  it('load with every template checked (vmalert -dryRun), and a broken template is refused the same way', () => {
    const ok = spawnSync(vmalert(), [...rules.map((r) => `-rule=${r}`), '-dryRun', '-loggerLevel=ERROR'], { encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'ae-vmalert-'));
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    annotations:\n      x: "{{ . | nosuchfunc }}"\n');
    const refused = spawnSync(vmalert(), [`-rule=${bad}`, '-dryRun', '-loggerLevel=ERROR'], { encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/nosuchfunc/);
  });
});

describe('npm run demo -- --source victoria-metrics --once --json', () => {
  const temp = () => new Set(readdirSync(tmpdir()).filter((n) => /^(ae-vm-|ae-am-|anomaly-demo-)/.test(n)));
  let code: number | null;
  let stdout = '';
  let stderr = '';
  let leftovers: string[];

  beforeAll(async () => {
    const before = temp();
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'demo', 'run-demo.js'), '--source', 'victoria-metrics', '--once', '--json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (c) => {
        code = c;
        resolve();
      });
    });
    leftovers = [...temp()].filter((n) => !before.has(n));
    process.stdout.write(`demo stderr:\n${stderr}\n`);
  });

  it('runs the whole loop: scored from VictoriaMetrics, alert from vmalert, delivered, acted on, resolved, within the targets', () => {
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { ok: boolean; loops: Record<string, unknown>[]; episodes_before_fault: number };
    expect(out.ok).toBe(true);
    expect(out.episodes_before_fault).toBe(0);
    const [loop] = out.loops;
    /** The loop's steps in order, as the demo's timeline names them. */
    const order = STEPS.map(([key]) => key);
    const times = order.map((k) => loop[k] as number);
    for (const t of times) expect(typeof t).toBe('number');
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1] - 0.5);
    expect(loop.decision).toMatch(/^executed/);
    expect(loop.other_episodes).toBe(0);
    expect(loop.detect_seconds as number).toBeLessThan(20);
    expect(loop.action_seconds as number).toBeLessThan(45);
    expect(loop.resolve_seconds as number).toBeLessThan(120);
    expect(stderr).toMatch(/victoria-metrics \(pid \d+\)/);
  });

  it('stops every process it started and leaves no temporary files', () => {
    for (const m of stderr.matchAll(/pid (\d+)/g)) expect(() => process.kill(Number(m[1]), 0)).toThrow();
    expect(stderr.match(/pid \d+/g)).toHaveLength(5);
    expect(leftovers).toEqual([]);
  });
});
