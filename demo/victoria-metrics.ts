/**
 * The VictoriaMetrics stack on loopback, as Debian's `victoria-metrics` package ships it: the
 * single-node server (which scrapes, like vmagent, with -promscrape.config) and vmalert (rules
 * evaluated against it, alerts to Alertmanager, recording rules and alert state written back).
 * It stands where startPrometheus stands: the same handle, so the demo and the tests run the
 * same loop on either.
 */
import axios from 'axios';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, instantQuery, PrometheusOptions, PrometheusProcess, requireBinary, spawnQuiet, stopProcess, untilUp } from './local-stack';

/**
 * How far behind now VictoriaMetrics' query_range answers are complete (-search.latencyOffset;
 * 1m by default in 1.79, 30s in later versions): newer points are filled with the previous
 * value. The exporter's reader.query_offset must be at least this.
 */
export const VM_LATENCY_OFFSET = '2s';

export interface VictoriaMetricsOptions extends PrometheusOptions {
  /** Samples to import before the scrapes start, OpenMetrics text with timestamps in seconds. */
  history?: string;
}

export async function startVictoriaMetrics(opts: VictoriaMetricsOptions = {}): Promise<PrometheusProcess> {
  const vmBin = requireBinary('victoria-metrics', 'victoria-metrics');
  const dir = mkdtempSync(join(tmpdir(), 'ae-vm-'));
  const interval = opts.scrapeInterval ?? '1s';
  writeFileSync(join(dir, 'scrape.yml'), `global:\n  scrape_interval: ${interval}\nscrape_configs:\n${opts.scrapeConfigs ?? ''}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const withRules = (opts.ruleFiles?.length ?? 0) > 0 && opts.alertmanager !== undefined;
  const alertPort = withRules ? await freePort() : 0;
  const vm = spawnQuiet(vmBin, [
    // /api/v1/alerts and /api/v1/rules answered from vmalert, as Prometheus answers them.
    ...(withRules ? [`-vmalert.proxyURL=http://127.0.0.1:${alertPort}`] : []),
    `-storageDataPath=${join(dir, 'data')}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    `-promscrape.config=${join(dir, 'scrape.yml')}`,
    `-search.latencyOffset=${VM_LATENCY_OFFSET}`,
    '-retentionPeriod=1y',
    '-loggerLevel=ERROR',
    ...(opts.extraArgs ?? []),
  ]);
  const children = [vm];
  const stop = async () => {
    for (const c of children.reverse()) await stopProcess(c);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await untilUp('victoria-metrics', vm, `${url}/health`);
    if (opts.history) await importHistory(url, opts.history);
    if (withRules) {
      const rules = (opts.ruleFiles ?? []).map((file, i) => {
        const copy = join(dir, `rules-${i}.yml`);
        copyFileSync(file, copy);
        return copy;
      });
      const vmalert = spawnQuiet(requireBinary('vmalert', 'victoria-metrics'), [
        ...rules.map((r) => `-rule=${r}`),
        `-datasource.url=${url}`,
        `-remoteWrite.url=${url}`,
        `-notifier.url=http://${opts.alertmanager}`,
        `-evaluationInterval=${interval}`,
        `-httpListenAddr=127.0.0.1:${alertPort}`,
        '-loggerLevel=ERROR',
      ]);
      children.push(vmalert);
      await untilUp('vmalert', vmalert, `http://127.0.0.1:${alertPort}/health`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    port,
    dir,
    pid: vm.pid as number,
    query: instantQuery(url),
    stop,
  };
}

/** OpenMetrics (seconds) to the Prometheus text format (milliseconds) that /api/v1/import/prometheus takes. */
export function toImportText(openMetrics: string): string {
  const out: string[] = [];
  for (const line of openMetrics.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.push(`${line.slice(0, cut)} ${Math.round(Number(line.slice(cut + 1)) * 1000)}`);
  }
  return out.join('\n') + '\n';
}

async function importHistory(url: string, openMetrics: string): Promise<void> {
  await axios.post(`${url}/api/v1/import/prometheus`, toImportText(openMetrics), {
    headers: { 'Content-Type': 'text/plain' },
    maxBodyLength: Infinity,
    timeout: 60_000,
  });
  // Imported rows become searchable once flushed (about a second).
  await axios.get(`${url}/internal/force_flush`, { timeout: 10_000 });
}
