/**
 * Replicas sharing the groups of one real Prometheus: every series scored by exactly one replica,
 * the split the same as Prometheus' own hashmod relabelling, each replica's refit reads asking the
 * source only for its groups, and after COUNT changes (3 → 2, a restart) ownership moves with
 * nothing scored twice or dropped and the moved series warming up from the shared state dir.
 */
import { createServer, Server } from 'node:http';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import axios from 'axios';
import winston from 'winston';
import { parseConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { PrometheusReader } from '../exporter/read/prometheus-reader';
import { RangeQuery, RawSeries, Reader } from '../exporter/read/reader';
import { groupShard } from '../exporter/shard/shard';
import { loadDashboard, panelQueries } from './grafana-dashboard';
import { freePort, PrometheusProcess, scrapeJob, startPrometheus, waitFor } from './stack';

jest.setTimeout(240_000);

const SERVICES = Array.from({ length: 24 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
const MAX_SERIES = 16;
const stateDir = mkdtempSync(join(tmpdir(), 'ae-shard-state-'));
let target: Server;
let prom: PrometheusProcess;
/** The replicas' ports, known before they start so that Prometheus scrapes them as one job. */
let replicaPorts: number[] = [];

/** A target with one gauge per service, wandering a little. */
async function startTarget(): Promise<string> {
  target = createServer((_req, res) => {
    const t = Date.now() / 1000;
    const lines = SERVICES.map((s, i) => `shard_test_value{service="${s}"} ${(10 + i + Math.sin(t / 7 + i)).toFixed(4)}`);
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(`# TYPE shard_test_value gauge\n${lines.join('\n')}\n`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  const addr = target.address() as { port: number };
  return `127.0.0.1:${addr.port}`;
}

/** Records every query a replica sends. */
class RecordingReader implements Reader {
  readonly queries: RangeQuery[] = [];
  constructor(private readonly inner: Reader) {}
  queryRange(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]> {
    this.queries.push(q);
    return this.inner.queryRange(q, signal);
  }
}

interface Replica {
  daemon: ExporterDaemon;
  url: string;
  reader: RecordingReader;
  logs: Record<string, unknown>[];
}

async function startReplica(index: number, count: number): Promise<Replica> {
  const port = replicaPorts[index];
  const config = parseConfig(
    `reader:
  url: ${prom.url}
  timeout: 5s
  group_by: [service]
  # Below the 24 services the source holds, above any replica's share (at most 14): the limit is
  # what a replica scores, so reading the source whole and keeping the share must pass it.
  max_series: ${MAX_SERIES}
  signals:
    value: {query: 'sum by (service) (shard_test_value{job="plain"})'}
scheduler: {step: 1s, infer_every: 1s, fit_every: 10m, fit_window: 40s}
models: {fit_threads: 0, zscore: {min_samples: 5}, mad: {min_samples: 5}}
server: {listen: "127.0.0.1:${port}"}
state: {dir: "${stateDir}", save_every: 2s}
sharding: {index: ${index}, count: ${count}}
`,
    `replica-${index}.yml`,
  );
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    objectMode: true,
    write: (info: Record<string, unknown>, _enc, done) => {
      logs.push(info);
      done();
    },
  });
  const logger = winston.createLogger({ level: 'info', transports: [new winston.transports.Stream({ stream: sink })] });
  const reader = new RecordingReader(
    new PrometheusReader({ url: prom.url, timeoutMs: 5000, retries: 0, headers: {}, maxPointsPerQuery: 11000, maxSeries: MAX_SERIES }),
  );
  const daemon = new ExporterDaemon(config, { logger, version: 'shard-test', reader });
  await daemon.start();
  return { daemon, url: `http://127.0.0.1:${port}`, reader, logs };
}

/** The services a replica publishes an ensemble score for. */
async function scored(r: Replica): Promise<string[]> {
  const text = (await axios.get(`${r.url}/metrics`, { responseType: 'text' })).data as string;
  const out = new Set<string>();
  for (const m of text.matchAll(/^anomaly_score\{service="([^"]+)",signal="value",model="ensemble"\}/gm)) out.add(m[1]);
  return [...out].sort();
}

async function everyServiceScored(replicas: Replica[]): Promise<string[][]> {
  let sets: string[][] = [];
  await waitFor(
    'every service scored by some replica',
    async () => {
      sets = await Promise.all(replicas.map(scored));
      return new Set(sets.flat()).size === SERVICES.length;
    },
    60_000,
  );
  return sets;
}

beforeAll(async () => {
  const addr = await startTarget();
  // The same target twice: "plain" as it is, "hashmod" with Prometheus' own split into 3 as a label.
  const hashmod = `    metric_relabel_configs:\n      - {source_labels: [service], modulus: 3, target_label: shard, action: hashmod}\n`;
  replicaPorts = [await freePort(), await freePort(), await freePort()];
  const replicas = scrapeJob(
    'anomaly-exporter',
    replicaPorts.map((p) => `127.0.0.1:${p}`),
  );
  prom = await startPrometheus({
    scrapeInterval: '1s',
    scrapeConfigs: scrapeJob('plain', addr) + scrapeJob('hashmod', addr, hashmod) + replicas,
    ruleFiles: [join(__dirname, '..', 'prometheus', 'rules', 'recording.yml')],
  });
  // Enough history for a fit window before the replicas start.
  await new Promise((r) => setTimeout(r, 12_000));
});

afterAll(async () => {
  await prom?.stop();
  target?.closeAllConnections();
  target?.close();
});

describe('sharded replicas', () => {
  let three: Replica[] = [];

  afterAll(async () => {
    for (const r of three) await r.daemon.stop();
  });

  it('split the groups as Prometheus hashmod does', async () => {
    const rows = await prom.query('shard_test_value{job="hashmod"}');
    expect(rows).toHaveLength(SERVICES.length);
    for (const row of rows) expect(groupShard({ service: row.metric.service }, ['service'], 3)).toBe(Number(row.metric.shard));
  });

  it('score every series on exactly one of 3 replicas, each its own share, reading only its groups for refits', async () => {
    three = await Promise.all([0, 1, 2].map((i) => startReplica(i, 3)));
    const sets = await everyServiceScored(three);
    expect(sets.flat().sort()).toEqual(SERVICES);
    sets.forEach((set, i) => expect(set).toEqual(SERVICES.filter((s) => groupShard({ service: s }, ['service'], 3) === i)));
    for (const [i, r] of three.entries()) {
      const text = (await axios.get(`${r.url}/metrics`, { responseType: 'text' })).data as string;
      expect(text).toContain(`anomaly_exporter_shard_info{index="${i}",count="3"} 1`);
      // The refit's read (the whole fit window) named only this replica's services.
      const fitRead = r.reader.queries.find((q) => q.endSeconds - q.startSeconds >= 30 && q.query.includes('=~'));
      expect(fitRead).toBeDefined();
      const named = /service=~"([^"]*)"/.exec(fitRead!.query)![1].split('|');
      expect(named.sort()).toEqual(sets[i]);
    }
  });

  it('the shipped dashboard over 3 replicas: one line per service and signal, exporter health per replica, totals summed', async () => {
    // Once Prometheus has scraped every replica's share: each service's score comes from exactly one replica.
    await waitFor(
      'every service scraped from one replica',
      async () => {
        const rows = await prom.query('count by (service) (anomaly_score{model="ensemble"})');
        return rows.length === SERVICES.length && rows.every((r) => r.value[1] === '1');
      },
      30_000,
    );
    await waitFor(
      'the recording rules over the replicas',
      async () => (await prom.query('service_signal:anomaly_score:max10m')).length === SERVICES.length,
      30_000,
    );
    for (const [i, r] of three.entries()) {
      const service = (await scored(r))[0];
      for (const q of panelQueries(loadDashboard(), { service, rateInterval: '10s' })) {
        const perReplica = q.expr.includes('anomaly_exporter_') && !q.expr.includes('sum by (signal)');
        // A rate needs two scrapes of each replica in its range: wait for them.
        if (perReplica && !q.expr.includes('errors_total'))
          await waitFor(`${q.panel} of every replica`, async () => (await prom.query(q.expr)).length === three.length, 15_000);
        const rows = await prom.query(q.expr);
        // Per replica: one line each (the exporter's own health); otherwise one line per label set, whichever replica published it.
        const keys = rows.map((row) => {
          const { instance, job: _job, ...rest } = row.metric as Record<string, string>;
          return JSON.stringify(perReplica ? { instance } : rest);
        });
        // Correlation, incidents and the group score need several signals per service; this source has one.
        if (!/anomaly_signal_correlation|anomaly_incident_info|anomaly_group_score/.test(q.expr))
          expect([q.panel, q.expr, rows.length > 0]).toEqual([q.panel, q.expr, true]);
        expect([q.panel, q.expr, new Set(keys).size]).toEqual([q.panel, q.expr, keys.length]);
        if (perReplica && !q.expr.includes('errors_total')) expect([q.panel, q.expr, rows.length]).toEqual([q.panel, q.expr, three.length]);
        if (!perReplica && q.expr.includes(service)) {
          // A per-service panel reads the replica that owns the service.
          expect([q.panel, rows.every((row) => !row.metric.instance || row.metric.instance === `127.0.0.1:${replicaPorts[i]}`)]).toEqual([q.panel, true]);
        }
      }
    }
    // The fleet's total of series scored is every service once.
    const total = await prom.query('sum by (signal) (anomaly_exporter_series)');
    expect(total.map((t) => [t.metric.signal, t.value[1]])).toEqual([['value', String(SERVICES.length)]]);
  });

  it('after a restart as 2 replicas: ownership moves, nothing is scored twice or dropped, moved series warm up from the shared state', async () => {
    for (const r of three) await r.daemon.stop();
    three = [];
    const files = readdirSync(stateDir).filter((f) => f.endsWith('.state.ndjson'));
    expect(files.sort()).toEqual(['value.shard-0-of-3.state.ndjson', 'value.shard-1-of-3.state.ndjson', 'value.shard-2-of-3.state.ndjson']);
    const two = await Promise.all([0, 1].map((i) => startReplica(i, 2)));
    try {
      for (const [i, r] of two.entries()) {
        const owned = SERVICES.filter((s) => groupShard({ service: s }, ['service'], 2) === i);
        // Restored from the three old files: every owned series, those that moved included.
        const restored = r.logs.find((l) => l.message === 'model state restored');
        expect(restored).toMatchObject({ signal: 'value', series: owned.length });
        const moved = owned.filter((s) => groupShard({ service: s }, ['service'], 3) !== i);
        expect(moved.length).toBeGreaterThan(0);
      }
      const sets = await everyServiceScored(two);
      expect(sets.flat().sort()).toEqual(SERVICES);
      sets.forEach((set, i) => expect(set).toEqual(SERVICES.filter((s) => groupShard({ service: s }, ['service'], 2) === i)));
    } finally {
      for (const r of two) await r.daemon.stop();
    }
  });
});
