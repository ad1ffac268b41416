/**
 * Everything `npm run demo` runs, on free loopback ports: the demo service with load, a real
 * Prometheus (1 s scrape and rule evaluation, the demo alert rule, history backfilled so the
 * models are warm at once), a real Alertmanager, the exporter and the remediation receiver (live,
 * against the demo service only). The product parts run as processes of the CLI, as a user runs
 * them. Configs come from demo/ (see demo/config/ and demo/anomaly-exporter.demo.yml).
 */
import { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { demoHistory } from './demo-history';
import {
  AlertmanagerProcess,
  backfill,
  freePort,
  PrometheusProcess,
  scrapeJob,
  spawnQuiet,
  startAlertmanager,
  startPrometheus,
  stopProcess,
  waitFor,
} from './local-stack';
import { startVictoriaMetrics, VM_LATENCY_OFFSET } from './victoria-metrics';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** Where the demo's config files live (the sources, also when running from dist/). */
export const DEMO_CONFIG_DIR = join(ROOT, 'demo');
/** Minutes of history backfilled before the start: the exporter's fit_window is 10 m. */
const HISTORY_MINUTES = 12;
const RATE_PER_SERVICE = 20;
/** Seconds from writing the history to starting the demo service: enough for Prometheus to start. */
const HISTORY_LEAD_SECONDS = 4;

export interface DemoStack {
  urls: { demo: string; prometheus: string; alertmanager: string; exporter: string; receiver: string };
  dir: string;
  /** Every process started, for the progress line and for stop(). */
  processes: { name: string; pid: number }[];
  stop(): Promise<void>;
}

/** Fills `${NAME}` placeholders; a placeholder without a value is an error, not an empty string. */
export function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`demo config template: no value for \${${name}}`);
    return values[name];
  });
}

interface CliProcess {
  name: string;
  child: ChildProcess & { stderrTail: () => string };
}

/** Where the series live and the rules run: Prometheus, or VictoriaMetrics with vmalert. */
export type DemoSource = 'prometheus' | 'victoria-metrics';

export async function startDemoStack(progress: (line: string) => void = () => undefined, source: DemoSource = 'prometheus'): Promise<DemoStack> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm run demo does)`);
  const dir = mkdtempSync(join(tmpdir(), 'anomaly-demo-'));
  const cli: CliProcess[] = [];
  let prom: PrometheusProcess | undefined;
  let am: AlertmanagerProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(cli.map((p) => stopProcess(p.child)));
    await prom?.stop();
    await am?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const startCli = (name: string, args: string[]) => {
    const child = spawnQuiet(process.execPath, [CLI, ...args]);
    child.on('exit', (code, signal) => {
      if (!stopped) progress(`${name} exited (${code ?? signal}); its last output:\n${child.stderrTail()}`);
    });
    cli.push({ name, child });
    return child;
  };
  const ready = async (name: string, url: string) => {
    const p = cli.find((x) => x.name === name)!;
    await waitFor(
      `${name} at ${url}`,
      async () => {
        if (p.child.exitCode !== null) throw new Error(`${name} exited: ${p.child.stderrTail()}`);
        return (await axios.get(url, { timeout: 1000, validateStatus: () => true })).status === 200;
      },
      30_000,
    );
  };

  try {
    const [demoPort, exporterPort, receiverPort] = [await freePort(), await freePort(), await freePort()];
    const demoHost = `127.0.0.1:${demoPort}`;
    const receiverUrl = `http://127.0.0.1:${receiverPort}`;
    progress('alertmanager');
    am = await startAlertmanager(fillTemplate(readFileSync(join(DEMO_CONFIG_DIR, 'config', 'alertmanager.demo.yml'), 'utf8'), { RECEIVER_URL: receiverUrl }));

    // The history ends where the live service's counters start from zero, a few seconds from now
    // (Prometheus starts meanwhile), so rate() sees one continuous series with one counter reset
    // and no gap: a gap or double-counted seconds would make traffic look anomalous at the start.
    const liveFrom = Date.now() / 1000 + HISTORY_LEAD_SECONDS;
    const history = demoHistory({
      fromSeconds: liveFrom - HISTORY_MINUTES * 60,
      toSeconds: liveFrom,
      stepSeconds: 1,
      ratePerService: RATE_PER_SERVICE,
      targetLabels: { job: 'demo', instance: demoHost },
      seed: 7,
    });
    const scrapeConfigs = scrapeJob('demo', demoHost) + scrapeJob('anomaly-exporter', `127.0.0.1:${exporterPort}`, '    honor_labels: true\n');
    const ruleFiles = [join(DEMO_CONFIG_DIR, 'config', 'rules.demo.yml')];
    if (source === 'victoria-metrics') {
      progress(`victoria-metrics and vmalert, with ${HISTORY_MINUTES} minutes of the demo service's history imported`);
      prom = await startVictoriaMetrics({ scrapeInterval: '1s', ruleFiles, alertmanager: am.url.replace('http://', ''), scrapeConfigs, history });
    } else {
      progress(`prometheus, with ${HISTORY_MINUTES} minutes of the demo service's history backfilled`);
      prom = await startPrometheus({
        scrapeInterval: '1s',
        ruleFiles,
        alertmanager: am.url.replace('http://', ''),
        scrapeConfigs,
        prepareDataDir: (dataDir) => backfill(dataDir, history),
      });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, liveFrom * 1000 - Date.now())));
    progress(`demo service with ${RATE_PER_SERVICE} requests/s per service`);
    startCli('demo service', ['demo-service', '--listen', demoHost, '--rate', String(RATE_PER_SERVICE)]);
    await ready('demo service', `http://${demoHost}/metrics`);

    progress('exporter');
    let exporterConfig = join(DEMO_CONFIG_DIR, 'anomaly-exporter.demo.yml');
    if (source === 'victoria-metrics') {
      // VictoriaMetrics fills its newest -search.latencyOffset of an answer with older values:
      // the exporter scores only what is older (reader.query_offset).
      exporterConfig = join(dir, 'anomaly-exporter.demo.yml');
      const text = readFileSync(join(DEMO_CONFIG_DIR, 'anomaly-exporter.demo.yml'), 'utf8');
      writeFileSync(exporterConfig, text.replace(/^reader:\n/m, `reader:\n  query_offset: ${VM_LATENCY_OFFSET}\n`));
    }
    startCli('exporter', ['run', '--config', exporterConfig, '--source-url', prom.url, '--listen', `127.0.0.1:${exporterPort}`]);
    await ready('exporter', `http://127.0.0.1:${exporterPort}/healthz`);

    progress('remediation receiver (live, against the demo service only)');
    const receiverConfig = join(dir, 'receiver.demo.yml');
    writeFileSync(
      receiverConfig,
      fillTemplate(readFileSync(join(DEMO_CONFIG_DIR, 'config', 'receiver.demo.yml'), 'utf8'), {
        RECEIVER_LISTEN: `127.0.0.1:${receiverPort}`,
        STORE_PATH: JSON.stringify(join(dir, 'receiver.db')),
        PROMETHEUS_URL: prom.url,
        DEMO_HOST: demoHost,
      }),
    );
    startCli('receiver', ['receiver', '--config', receiverConfig]);
    await ready('receiver', `${receiverUrl}/healthz`);

    return {
      urls: { demo: `http://${demoHost}`, prometheus: prom.url, alertmanager: am.url, exporter: `http://127.0.0.1:${exporterPort}`, receiver: receiverUrl },
      dir,
      processes: [...cli.map((p) => ({ name: p.name, pid: p.child.pid as number })), { name: source, pid: prom.pid }, { name: 'alertmanager', pid: am.pid }],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
