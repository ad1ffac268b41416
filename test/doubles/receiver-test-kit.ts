/** Shared by the receiver's tests: configs, alerts, a clock, and a small HTTP target. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../../common/logger';
import { Receiver } from '../../receiver/receiver';
import { parseReceiverConfig, ReceiverConfig } from '../../receiver/receiver-config';

export const T0 = Date.parse('2026-11-23T10:00:00Z');

let fp = 0;
/** A webhook alert (Alertmanager's shape) with a fresh fingerprint unless one is given. */
export function alert(
  over: { status?: string; labels?: Record<string, string>; annotations?: Record<string, string>; startsAt?: string; fingerprint?: string } = {},
) {
  return {
    status: over.status ?? 'firing',
    labels: { alertname: 'AnomalousSignal', service: 'checkout', signal: 'latency', severity: 'warning', category: 'anomaly', ...over.labels },
    annotations: { summary: 'checkout latency anomalous', ...over.annotations },
    startsAt: over.startsAt ?? new Date(T0).toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint: over.fingerprint ?? (++fp).toString(16).padStart(16, '0'),
  };
}

export const payload = (...alerts: ReturnType<typeof alert>[]) => ({
  version: '4',
  groupKey: 'g',
  status: alerts[0]?.status ?? 'firing',
  receiver: 'remediation',
  alerts,
});

/** A test HTTP server that records requests (method, url, body bytes) and answers 200 (`answer`) after `delayMs`. */
export async function startTarget(
  delayMs = 0,
  answer = '{"ok":true}',
): Promise<{ url: string; host: string; requests: { method: string; url: string; body: Buffer }[]; stop: () => Promise<void> }> {
  const requests: { method: string; url: string; body: Buffer }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks) });
      setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end(answer), delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${host}`,
    host,
    requests,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Kit {
  receiver: Receiver;
  registry: Registry;
  config: ReceiverConfig;
  dir: string;
  now: { ms: number };
  /** The value of a counter/histogram-count series in the registry. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): void;
}

/** A Receiver over a temp SQLite file, with a settable clock; `yaml` is the config body. */
export function makeReceiver(yaml: string, dir = mkdtempSync(join(tmpdir(), 'ae-recv-'))): Kit {
  const config = parseReceiverConfig(
    `store: {path: ${JSON.stringify(join(dir, 'receiver.db'))}}\n${yaml.includes('auth:') ? '' : 'auth: {type: none}\n'}${yaml}`,
    'test.yml',
  );
  const registry = new Registry();
  const now = { ms: T0 + 60_000 };
  const receiver = new Receiver(config, registry, silentLogger(), () => now.ms);
  return {
    receiver,
    registry,
    config,
    dir,
    now,
    async metric(name, labels = {}) {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
      const v = (m?.values ?? []).find(
        (x) =>
          Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val) &&
          (!('metricName' in x) || !String((x as { metricName?: string }).metricName).endsWith('_bucket')),
      );
      return v ? v.value : 0;
    },
    close() {
      receiver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
