/**
 * The daemon against a source that misbehaves on demand: a local HTTP server speaking the
 * query_range API that can refuse connections, fail with 500, reject one signal's PromQL, send
 * garbage, or hang. The daemon must keep serving, report it, and recover.
 */
import http, { IncomingMessage, Server, ServerResponse } from 'node:http';
import axios from 'axios';
import { silentLogger } from '../common/logger';
import { parseConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { freePort, waitFor } from './stack';

jest.setTimeout(60_000);

type Mode = 'ok' | 'error500' | 'promql_traffic' | 'garbage' | 'slow' | 'slow_fit_reads';
let mode: Mode = 'ok';
let sourcePort: number;
let source: Server | undefined;
let exporter: ExporterDaemon;
let exporterUrl: string;
const aborted: number[] = [];
const requests: { at: number; signalQuery: string }[] = [];

function respond(req: IncomingMessage, res: ServerResponse, body: string): void {
  const p = new URLSearchParams(body);
  const query = p.get('query') ?? '';
  requests.push({ at: Date.now(), signalQuery: query });
  if (mode === 'error500') return void res.writeHead(500).end('internal error');
  if (mode === 'garbage') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"success","data":{"result":[{');
  if (mode === 'promql_traffic' && query === 'traffic_q') {
    return void res
      .writeHead(400, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: '1:9: parse error: unexpected identifier' }));
  }
  if (mode === 'slow') {
    const started = Date.now();
    res.on('close', () => {
      if (!res.writableEnded) aborted.push(Date.now() - started);
    });
    return; // never answers; the client has to give up
  }
  const start = Number(p.get('start'));
  const end = Number(p.get('end'));
  const step = Number(p.get('step'));
  const values: [number, string][] = [];
  for (let t = start, i = 0; t <= end; t += step, i++) values.push([t, String(10 + Math.sin(t) * 0.5)]);
  const result = ['a', 'b'].map((service) => ({ metric: { service }, values }));
  const answer = () =>
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
  // A whole fit window (2 minutes here) takes 1.5 s, three times the cycle timeout; new samples are quick.
  if (mode === 'slow_fit_reads' && end - start > 30) setTimeout(answer, 1500);
  else answer();
}

function startSource(): Promise<void> {
  return new Promise((resolve) => {
    source = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => respond(req, res, body));
    });
    source.listen(sourcePort, '127.0.0.1', () => resolve());
  });
}

function stopSource(): Promise<void> {
  return new Promise((resolve) => {
    if (!source) return resolve();
    source.closeAllConnections();
    source.close(() => resolve());
    source = undefined;
  });
}

async function metrics(): Promise<string> {
  return (await axios.get(`${exporterUrl}/metrics`, { responseType: 'text' })).data as string;
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A daemon on the faulty source, listening on `port`, with these signals and scheduler settings. */
async function startExporter(port: number, signals: string[], scheduler: string, file: string): Promise<ExporterDaemon> {
  const config = parseConfig(
    `reader:
  url: http://127.0.0.1:${sourcePort}
  timeout: 5s
  retries: 0
  signals:
${signals.map((s) => `    ${s}: {query: ${s}_q}`).join('\n')}
scheduler: {step: 1s, infer_every: 1s, cycle_timeout: 500ms, fit_every: 1m, fit_window: 2m, ${scheduler}}
models: {zscore: {min_samples: 5}, mad: {min_samples: 5}}
server: {listen: "127.0.0.1:${port}"}
`,
    file,
  );
  const daemon = new ExporterDaemon(config, { logger: silentLogger(), version: 'test' });
  await daemon.start();
  return daemon;
}

beforeAll(async () => {
  sourcePort = await freePort();
  await startSource();
  const port = await freePort();
  exporterUrl = `http://127.0.0.1:${port}`;
  exporter = await startExporter(port, ['latency', 'traffic'], "fit_timeout: 500ms, fit_cron: '*/2 * * * * *'", 'faults.yml');
});

afterAll(async () => {
  await exporter?.stop();
  await stopSource();
});

describe('exporter with a misbehaving source', () => {
  it('serves scores while the source is healthy', async () => {
    await waitFor(
      'source_up 1 with series',
      async () => {
        const m = await metrics();
        return value(m, 'anomaly_exporter_source_up') === 1 && m.includes('anomaly_score{service="a",signal="traffic",model="ensemble"}');
      },
      10_000,
    );
  });

  it('reports source_up 0 on persistent 500s, drops the scores, keeps serving', async () => {
    mode = 'error500';
    const before = value(await metrics(), 'anomaly_exporter_query_errors_total{signal="latency"}') ?? 0;
    await waitFor('source_up 0', async () => value(await metrics(), 'anomaly_exporter_source_up') === 0, 10_000);
    const m = await metrics();
    expect(value(m, 'anomaly_exporter_query_errors_total{signal="latency"}')).toBeGreaterThan(before);
    expect(value(m, 'anomaly_exporter_query_errors_total{signal="traffic"}')).toBeGreaterThan(0);
    expect(m).not.toContain('anomaly_score{');
    expect((await axios.get(`${exporterUrl}/healthz`)).status).toBe(200);
  });

  it('recovers when the source answers again', async () => {
    mode = 'ok';
    await waitFor(
      'source_up 1 again',
      async () => {
        const m = await metrics();
        return value(m, 'anomaly_exporter_source_up') === 1 && m.includes('anomaly_score{service="b"');
      },
      10_000,
    );
  });

  it('confines a PromQL error to its own signal', async () => {
    mode = 'promql_traffic';
    await waitFor(
      'traffic scores gone, latency kept',
      async () => {
        const m = await metrics();
        return !m.includes('signal="traffic",model=') && m.includes('signal="latency",model="ensemble"');
      },
      10_000,
    );
    const m = await metrics();
    expect(value(m, 'anomaly_exporter_source_up')).toBe(1);
    const latencyErrors = value(m, 'anomaly_exporter_query_errors_total{signal="latency"}');
    await new Promise((r) => setTimeout(r, 1500));
    // Only traffic's error counter moves.
    expect(value(await metrics(), 'anomaly_exporter_query_errors_total{signal="latency"}')).toBe(latencyErrors);
    // A signal failing cycle after cycle makes the exporter not ready, with the reason.
    const readyz = async () => axios.get(`${exporterUrl}/readyz`, { validateStatus: () => true, responseType: 'text' });
    await waitFor('readyz 503', async () => (await readyz()).status === 503, 10_000);
    expect((await readyz()).data).toMatch(/^not ready: signal traffic failed its last \d+ cycles: .*parse error: unexpected identifier/);
    mode = 'ok';
    await waitFor('readyz 200 once the query works again', async () => (await readyz()).status === 200, 10_000);
  });

  it('counts malformed JSON as query errors without crashing', async () => {
    mode = 'garbage';
    const before = value(await metrics(), 'anomaly_exporter_query_errors_total{signal="latency"}') ?? 0;
    await waitFor('errors counted', async () => (value(await metrics(), 'anomaly_exporter_query_errors_total{signal="latency"}') ?? 0) >= before + 2, 10_000);
    expect(await metrics()).not.toContain('anomaly_score{');
  });

  it('reports source_up 0 when the source refuses connections, and recovers', async () => {
    mode = 'ok';
    await stopSource();
    await waitFor('source_up 0', async () => value(await metrics(), 'anomaly_exporter_source_up') === 0, 10_000);
    await startSource();
    await waitFor('source_up 1', async () => value(await metrics(), 'anomaly_exporter_source_up') === 1, 10_000);
  });

  it('cuts a hanging cycle at its timeout, really aborting its requests, and starts the next on time', async () => {
    mode = 'slow';
    aborted.length = 0;
    const before = value(await metrics(), 'anomaly_exporter_cycle_timeouts_total') ?? 0;
    const firstSlow = Date.now();
    await new Promise((r) => setTimeout(r, 3500));
    const m = await metrics();
    // The source hangs: down, not the last answer's 1.
    expect(value(m, 'anomaly_exporter_source_up')).toBe(0);
    const timeouts = (value(m, 'anomaly_exporter_cycle_timeouts_total') ?? 0) - before;
    // One cycle a second, each cut at 500 ms: about 3 in 3.5 s.
    expect(timeouts).toBeGreaterThanOrEqual(2);
    expect(timeouts).toBeLessThanOrEqual(4);
    // The source saw those requests closed by the client, about 500 ms after they arrived.
    expect(aborted.length).toBeGreaterThanOrEqual(4);
    for (const ms of aborted) expect(ms).toBeLessThan(1000);
    // A cut cycle is a failed cycle: /readyz says so, naming the timeout.
    const readyz = await axios.get(`${exporterUrl}/readyz`, { validateStatus: () => true, responseType: 'text' });
    expect(readyz.status).toBe(503);
    expect(readyz.data).toMatch(/signal latency failed its last \d+ cycles: cut by its timeout/);
    // Cycles kept their one-second rhythm: the slow requests started about a second apart.
    const starts = [...new Set(requests.filter((r) => r.at >= firstSlow && r.signalQuery === 'latency_q').map((r) => Math.round(r.at / 100)))];
    expect(starts.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < starts.length; i++) {
      expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(8);
      expect(starts[i] - starts[i - 1]).toBeLessThanOrEqual(13);
    }
    mode = 'ok';
    await waitFor('source_up 1 after the hang', async () => value(await metrics(), 'anomaly_exporter_source_up') === 1, 10_000);
    await waitFor('ready after the hang', async () => (await axios.get(`${exporterUrl}/readyz`, { validateStatus: () => true })).status === 200, 10_000);
  });

  it('refits on the fit_cron schedule (every 2 s here), far more often than fit_every (1m)', async () => {
    const count = async () => value(await metrics(), 'anomaly_exporter_fit_duration_seconds_count{signal="latency"}') ?? 0;
    const before = await count();
    await new Promise((r) => setTimeout(r, 6500));
    expect((await count()) - before).toBeGreaterThanOrEqual(2);
  });
});

describe('exporter whose refits take longer than its cycle timeout', () => {
  let slow: ExporterDaemon;
  let slowUrl: string;

  beforeAll(async () => {
    // The first exporter keeps running: two daemons on one source is fine.
    mode = 'slow_fit_reads';
    const port = await freePort();
    slowUrl = `http://127.0.0.1:${port}`;
    slow = await startExporter(port, ['latency'], 'fit_timeout: 5s', 'slow-fits.yml');
  });

  afterAll(async () => {
    await slow?.stop();
    mode = 'ok';
  });

  it('finishes its cold fit under fit_timeout, not cut at cycle_timeout, then scores every second with the short timeout', async () => {
    const text = async () => (await axios.get(`${slowUrl}/metrics`, { responseType: 'text' })).data as string;
    // Before fit_timeout, every cycle read the fit window, was cut at 500 ms and started over: no score, ever.
    await waitFor('scores from the cold fit', async () => (await text()).includes('anomaly_score{service="a",signal="latency",model="ensemble"}'), 10_000);
    const m = await text();
    expect(value(m, 'anomaly_exporter_cycle_timeouts_total')).toBe(0);
    expect(value(m, 'anomaly_exporter_fit_duration_seconds_count{signal="latency"}')).toBe(1);
    // Then ordinary cycles: quick reads of new samples, one a second, none cut.
    const cycles = value(m, 'anomaly_exporter_cycles_total') ?? 0;
    await new Promise((r) => setTimeout(r, 3000));
    const later = await text();
    expect((value(later, 'anomaly_exporter_cycles_total') ?? 0) - cycles).toBeGreaterThanOrEqual(2);
    expect(value(later, 'anomaly_exporter_cycle_timeouts_total')).toBe(0);
  });
});
