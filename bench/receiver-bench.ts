/**
 * npm run bench:receiver: the remediation receiver as a separate process (the built CLI), with
 * durable storage as configured by default (SQLite, WAL, synchronous=FULL), one alert per request,
 * 16 requests in flight over keep-alive HTTP. Every alert is a new episode that a dry-run runbook
 * decides on (the gates run; nothing acts). Five runs (BENCH_RUNS), each on a fresh receiver and
 * store: run-to-run spread on 2 cores is wide (743 to 1,165 alerts/s was seen), so the figures
 * are the medians. Prints progress and each run, then one JSON line with the median
 * alerts_per_second and p99_ms and every run. Target: >= 1,000 alerts/s and p99 < 50 ms.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOTAL = Number(process.env.BENCH_ALERTS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONCURRENCY = 16;
const WARMUP = 500;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function post(agent: http.Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhook/alertmanager',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function alertBody(i: number): string {
  const fp = i.toString(16).padStart(16, '0');
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="AnomalousSignal",service="svc-${i}"}`,
    status: 'firing',
    receiver: 'remediation',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'AnomalousSignal', service: `svc-${i % 500}`, signal: 'latency', severity: 'warning', category: 'anomaly' },
        annotations: { summary: 'bench' },
        startsAt: new Date(Date.UTC(2026, 10, 23) + i * 1000).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: fp,
      },
    ],
  });
}

interface RunResult {
  seconds: number;
  alerts_per_second: number;
  p50_ms: number;
  p99_ms: number;
}

async function runOnce(): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-bench-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'receiver.yml'),
    `listen: 127.0.0.1:${port}\nauth: {type: none}\nmode: dry_run\nstore: {path: ${JSON.stringify(join(dir, 'receiver.db'))}}\nhttp_allowlist: [127.0.0.1:9]\nrunbooks:\n  - name: restart\n    match: ['alertname="AnomalousSignal"']\n    cooldown: 10m\n    rate_limit: {max: 100000, per: 1h}\n    max_targets: {max: 1000, per: 1h}\n    steps: [{type: http, url: 'http://127.0.0.1:9/restart?service={{ labels.service }}'}]\nlogging: {level: warn}\n`,
  );
  const child = spawn(process.execPath, [join(__dirname, '..', 'cli', 'main.js'), 'receiver', '--config', join(dir, 'receiver.yml')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) =>
        http.get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => r(res.statusCode === 200)).on('error', () => r(false)),
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    let next = 0;
    const latencies: number[] = [];
    let failures = 0;
    const worker = async (count: number, record: boolean) => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        const status = await post(agent, port, alertBody(i));
        if (status !== 200) failures++;
        if (record) latencies.push(performance.now() - t);
      }
    };
    // Warm-up (JIT, page cache), not measured; then the measured run on fresh alerts.
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(WARMUP, false)));
    const started = performance.now();
    const total = WARMUP + TOTAL;
    const progress = setInterval(() => process.stderr.write(`bench:receiver: ${next - WARMUP}/${TOTAL} alerts\n`), 2000);
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(total, true)));
    clearInterval(progress);
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    if (failures) throw new Error(`${failures} requests did not get 200`);
    return {
      seconds: Number(seconds.toFixed(2)),
      alerts_per_second: Math.round(TOTAL / seconds),
      p50_ms: Number(q(0.5).toFixed(2)),
      p99_ms: Number(q(0.99).toFixed(2)),
    };
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const runs: RunResult[] = [];
  for (let k = 1; k <= RUNS; k++) {
    const r = await runOnce();
    runs.push(r);
    process.stderr.write(`bench:receiver: run ${k}/${RUNS}: ${r.alerts_per_second} alerts/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms\n`);
  }
  process.stdout.write(
    `${JSON.stringify({
      alerts: TOTAL,
      concurrency: CONCURRENCY,
      runs: RUNS,
      alerts_per_second: median(runs.map((r) => r.alerts_per_second)),
      p50_ms: median(runs.map((r) => r.p50_ms)),
      p99_ms: median(runs.map((r) => r.p99_ms)),
      each: runs,
    })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`bench:receiver failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
