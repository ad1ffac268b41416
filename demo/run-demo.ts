/**
 * npm run demo: the demo service, a real Prometheus and the exporter on free loopback ports,
 * with the anomaly scores printed as they move, and a latency fault injected to show detection.
 * Starts the product only as processes (the CLI), like any user would. Ctrl-C stops everything.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const children: { name: string; proc: ChildProcess }[] = [];
const once = process.argv.includes('--once');
const noFault = process.argv.includes('--no-fault');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function start(name: string, cmd: string, args: string[]): ChildProcess {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  proc.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2000)));
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`demo: ${name} exited (${code ?? signal}); its last output:\n${tail}\n`);
      void stopAll(1);
    }
  });
  children.push({ name, proc });
  return proc;
}

function getJson(url: string, method = 'GET', body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        } catch {
          resolve({ status: res.statusCode ?? 0, json: text });
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(3000, () => req.destroy(new Error('timeout')));
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type Sample = { metric: Record<string, string>; value: [number, string] };
async function query(promUrl: string, promql: string): Promise<Sample[]> {
  const r = await getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  return ((r.json as { data?: { result?: Sample[] } })?.data?.result ?? []) as Sample[];
}

/** Prints the highest ensemble score of each signal over the last 5 s (the table's interval). */
async function printScores(promUrl: string, since: number, note: string): Promise<number> {
  const rows = await query(promUrl, 'max_over_time(anomaly_score{model="ensemble"}[5s])');
  const cell = (service: string, signal: string) => {
    const r = rows.find((x) => x.metric.service === service && x.metric.signal === signal);
    if (!r) return '   -  ';
    const v = Number(r.value[1]);
    return `${v > 1 ? '*' : ' '}${v.toFixed(2).padStart(5)}`;
  };
  const t = ((Date.now() - since) / 1000).toFixed(0).padStart(4);
  process.stdout.write(`${t}s  checkout: latency ${cell('checkout', 'latency')} traffic ${cell('checkout', 'traffic')} errors ${cell('checkout', 'errors')}   catalog: latency ${cell('catalog', 'latency')} traffic ${cell('catalog', 'traffic')} errors ${cell('catalog', 'errors')}  ${note}\n`);
  const max = rows.filter((x) => x.metric.service === 'checkout' && x.metric.signal === 'latency').map((x) => Number(x.value[1]))[0];
  return max ?? 0;
}

let stopping = false;
let workDir = '';
async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    children.map(
      ({ proc }) =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
          proc.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          proc.kill('SIGTERM');
        }),
    ),
  );
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  process.exit(code);
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm run demo does)`);
  const prometheus = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find(existsSync);
  if (!prometheus) throw new Error('prometheus is not installed: sudo apt-get install -y prometheus');
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  workDir = mkdtempSync(join(tmpdir(), 'anomaly-demo-'));
  const [demoPort, promPort, exporterPort] = [await freePort(), await freePort(), await freePort()];
  const demoUrl = `http://127.0.0.1:${demoPort}`;
  const promUrl = `http://127.0.0.1:${promPort}`;
  const exporterUrl = `http://127.0.0.1:${exporterPort}`;
  writeFileSync(
    join(workDir, 'prometheus.yml'),
    `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: demo
    static_configs: [{targets: ['127.0.0.1:${demoPort}']}]
  - job_name: anomaly-exporter
    honor_labels: true
    static_configs: [{targets: ['127.0.0.1:${exporterPort}']}]
`,
  );

  start('demo service', process.execPath, [CLI, 'demo-service', '--listen', `127.0.0.1:${demoPort}`]);
  start('prometheus', prometheus, [`--config.file=${join(workDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`]);
  start('exporter', process.execPath, [CLI, 'run', '--config', join(ROOT, 'demo', 'anomaly-exporter.demo.yml'), '--source-url', promUrl, '--listen', `127.0.0.1:${exporterPort}`]);
  await waitUntil('prometheus', async () => (await getJson(`${promUrl}/-/ready`)).status === 200, 30_000);
  await waitUntil('the exporter', async () => (await getJson(`${exporterUrl}/healthz`)).status === 200, 30_000);

  process.stdout.write(`
anomaly-exporter demo
  demo service  ${demoUrl}        (fault API: POST ${demoUrl}/faults)
  prometheus    ${promUrl}        (try: anomaly_score{model="ensemble"})
  exporter      ${exporterUrl}/metrics
Warming up: the models need about 40 s of samples. Scores are the ensemble's highest in the last 5 s; * marks above 1 (anomalous).
`);
  const started = Date.now();
  await waitUntil('warm models', async () => (await query(promUrl, 'count(anomaly_expected_value)'))[0]?.value[1] === '6', 180_000);
  let faultAt = 0;
  let detectedAt = 0;
  let clearedAt = 0;
  for (;;) {
    const elapsed = (Date.now() - started) / 1000;
    let note = '';
    if (!noFault && !faultAt && elapsed > 75) {
      await getJson(`${demoUrl}/faults`, 'POST', { service: 'checkout', type: 'latency', magnitude: 0.3, duration: '40s' });
      faultAt = Date.now();
      note = '<- injected +300 ms latency into checkout for 40 s';
    }
    const score = await printScores(promUrl, started, note);
    if (faultAt && !detectedAt && score > 1) {
      detectedAt = Date.now();
      process.stdout.write(`      checkout latency anomalous ${((detectedAt - faultAt) / 1000).toFixed(1)} s after the fault\n`);
    }
    // Normal again: the fault is over and the signal's anomalous stretch has ended (no onset).
    const inStretch = (await query(promUrl, 'anomaly_onset_timestamp_seconds{service="checkout",signal="latency"}')).length > 0;
    if (detectedAt && !clearedAt && score <= 1 && !inStretch && Date.now() - faultAt > 40_000) {
      clearedAt = Date.now();
      process.stdout.write(`      back to normal ${((clearedAt - faultAt) / 1000 - 40).toFixed(1)} s after the fault ended\n`);
      if (once) await stopAll(0);
      process.stdout.write('Still running; inject your own fault with the API above. Ctrl-C stops everything.\n');
    }
    if (once && faultAt && Date.now() - faultAt > 120_000) {
      process.stderr.write('demo: the fault was not detected and cleared within 120 s\n');
      await stopAll(1);
    }
    await new Promise((r) => setTimeout(r, 5000));
  }
}

main().catch((err) => {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  void stopAll(1);
});
