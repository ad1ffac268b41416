/**
 * Real processes on one machine, for `npm run demo` and the end-to-end tests: Prometheus and
 * Alertmanager started from the Debian binaries on 127.0.0.1 with free ports and temp dirs,
 * stopped by PID. Fails loudly when a binary is missing.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';

export function requireBinary(name: string, debianPackage: string): string {
  for (const dir of ['/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`${name} is not installed: run "apt-get install -y ${debianPackage}" (as root), or "bash .ci/run", which installs it`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export interface PrometheusProcess {
  url: string;
  port: number;
  dir: string;
  pid: number;
  /** Instant query; returns the result vector. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  scrapeConfigs?: string;
  scrapeInterval?: string;
  /** Write TSDB blocks here before start (backfill). */
  prepareDataDir?: (dataDir: string) => void;
  extraArgs?: string[];
  /** Rule files to load (copied into the temp dir). */
  ruleFiles?: string[];
  /** host:port of an Alertmanager to send alerts to. */
  alertmanager?: string;
}

export async function startPrometheus(opts: PrometheusOptions = {}): Promise<PrometheusProcess> {
  const bin = requireBinary('prometheus', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'ae-prom-'));
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const interval = opts.scrapeInterval ?? '1s';
  const rules = (opts.ruleFiles ?? []).map((file, i) => {
    const copy = join(dir, `rules-${i}.yml`);
    copyFileSync(file, copy);
    return copy;
  });
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\n` +
      (rules.length ? `rule_files:\n${rules.map((r) => `  - ${r}\n`).join('')}` : '') +
      (opts.alertmanager ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['${opts.alertmanager}']\n` : '') +
      `scrape_configs:\n${opts.scrapeConfigs ?? ''}`,
  );
  opts.prepareDataDir?.(dataDir);
  const child = spawnQuiet(bin, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=30d',
    '--web.enable-lifecycle',
    ...(opts.extraArgs ?? []),
  ]);
  const url = `http://127.0.0.1:${port}`;
  await untilUp('prometheus', child, `${url}/-/ready`);
  return {
    url,
    port,
    dir,
    pid: child.pid as number,
    query: instantQuery(url),
    stop: () => stopProcess(child, () => rmSync(dir, { recursive: true, force: true })),
  };
}

/** Spawns a binary keeping the tail of its stderr (for the error when it does not come up). */
export function spawnQuiet(bin: string, args: string[]): ChildProcess & { stderrTail: () => string } {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return Object.assign(child, { stderrTail: () => stderr });
}

/**
 * Waits until `probeUrl` answers 200 (Prometheus and Alertmanager serve `/-/ready`, VictoriaMetrics
 * and vmalert `/health`); kills the process if it never does, with its stderr in the error.
 */
export async function untilUp(name: string, child: ReturnType<typeof spawnQuiet>, probeUrl: string): Promise<void> {
  try {
    await waitFor(`${name} to be up`, async () => (await axios.get(probeUrl, { timeout: 1000, validateStatus: () => true })).status === 200, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${name} stderr:\n${child.stderrTail()}`);
  }
}

/** An instant query against a Prometheus-compatible API at `url`; returns the result vector. */
export function instantQuery(url: string): PrometheusProcess['query'] {
  return async (promql) => {
    const res = await axios.get(`${url}/api/v1/query`, { params: { query: promql }, timeout: 5000 });
    return res.data.data.result;
  };
}

export function stopProcess(child: ChildProcess, cleanup?: () => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      cleanup?.();
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Writes OpenMetrics text and turns it into TSDB blocks with promtool (backfill). */
export function backfill(dataDir: string, openMetrics: string): void {
  const promtool = requireBinary('promtool', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'ae-om-'));
  const file = join(dir, 'data.om');
  try {
    writeFileSync(file, openMetrics.endsWith('# EOF\n') ? openMetrics : `${openMetrics}# EOF\n`);
    execFileSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir], { stdio: 'pipe' });
  } finally {
    // The OpenMetrics text is only promtool's input (6 MB for the demo's history).
    rmSync(dir, { recursive: true, force: true });
  }
}

export function promtoolCheckMetrics(text: string): { ok: boolean; output: string } {
  const promtool = requireBinary('promtool', 'prometheus');
  try {
    const out = execFileSync(promtool, ['check', 'metrics'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
    return { ok: true, output: out.toString() };
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    return { ok: false, output: `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}` };
  }
}

export function scrapeJob(name: string, target: string | string[], extra = ''): string {
  const targets = (Array.isArray(target) ? target : [target]).map((t) => `'${t}'`).join(', ');
  return `  - job_name: ${name}\n    static_configs:\n      - targets: [${targets}]\n${extra}`;
}

export interface AlertmanagerProcess {
  url: string;
  port: number;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the real alertmanager on a free loopback port with `configText` (written to a temp dir,
 * next to copies of `files`: name → content), off the gossip port, with its data in the temp dir.
 */
export async function startAlertmanager(configText: string, files: Record<string, string> = {}): Promise<AlertmanagerProcess> {
  const bin = requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = mkdtempSync(join(tmpdir(), 'ae-am-'));
  const port = await freePort();
  writeFileSync(join(dir, 'alertmanager.yml'), configText);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const child = spawnQuiet(bin, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await untilUp('alertmanager', child, `${url}/-/ready`);
  return { url, port, dir, pid: child.pid as number, stop: () => stopProcess(child, () => rmSync(dir, { recursive: true, force: true })) };
}
