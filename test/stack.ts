/**
 * The real processes for end-to-end tests: the ones `npm run demo` starts (demo/local-stack.ts),
 * and the exporters of other Debian packages that `init` finds presets for.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireBinary, spawnQuiet, stopProcess, untilUp } from '../demo/local-stack';

export * from '../demo/local-stack';

export interface ServedProcess {
  /** host:port it listens on. */
  address: string;
  stop(): Promise<void>;
}

/** Debian's prometheus-node-exporter on a free port, with its default collectors. */
export async function startNodeExporter(): Promise<ServedProcess> {
  const bin = requireBinary('prometheus-node-exporter', 'prometheus-node-exporter');
  const address = `127.0.0.1:${await freePort()}`;
  const child = spawnQuiet(bin, [`--web.listen-address=${address}`]);
  await untilUp('prometheus-node-exporter', child, `http://${address}/metrics`);
  return { address, stop: () => stopProcess(child) };
}

/** Debian's nginx in the foreground from a temp prefix, serving `/` and its stub_status page. */
export async function startNginx(): Promise<ServedProcess & { statusUrl: string }> {
  const bin = requireBinary('nginx', 'nginx');
  const dir = mkdtempSync(join(tmpdir(), 'ae-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const address = `127.0.0.1:${await freePort()}`;
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr; worker_processes 1;
events { worker_connections 64; }
http { access_log off; ${temp}
  server { listen ${address};
    location = /stub_status { stub_status; }
    location / { return 200 "ok\\n"; } } }
`,
  );
  const child = spawnQuiet(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  await untilUp('nginx', child, `http://${address}/`);
  return { address, statusUrl: `http://${address}/stub_status`, stop: () => stopProcess(child, () => rmSync(dir, { recursive: true, force: true })) };
}

/** Debian's prometheus-nginx-exporter reading an nginx stub_status page. */
export async function startNginxExporter(statusUrl: string): Promise<ServedProcess> {
  const bin = requireBinary('prometheus-nginx-exporter', 'prometheus-nginx-exporter');
  const address = `127.0.0.1:${await freePort()}`;
  const child = spawnQuiet(bin, [`-nginx.scrape-uri=${statusUrl}`, `-web.listen-address=${address}`]);
  await untilUp('prometheus-nginx-exporter', child, `http://${address}/metrics`);
  return { address, stop: () => stopProcess(child) };
}
