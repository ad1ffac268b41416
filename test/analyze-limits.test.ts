/**
 * One Analyse request cannot exhaust the exporter: a query matching 1,002 series over 49,000
 * steps (2.4 GiB of answer) is refused at the 51st series as the answer streams, the exporter's
 * peak RSS stays within 100 MB of idle, and a second analysis waits its turn (429).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliDaemon, killCli, requireBuiltCli, spawnCli } from './doubles/cli-daemon';
import { EndlessSource, startEndlessSource } from './doubles/endless-source';
import { freePort, waitFor } from './stack';

jest.setTimeout(120_000);

let source: EndlessSource;
let d: CliDaemon;

/** VmRSS and VmHWM (the peak) of a process, in MB. */
function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

beforeAll(async () => {
  requireBuiltCli();
  // The configured signal is small (the daemon's own cycles stay cheap); `many` is the attack.
  source = await startEndlessSource((query) => (query.includes('many') ? 1002 : 2));
  const dir = mkdtempSync(join(tmpdir(), 'ae-analyze-limits-'));
  const port = await freePort();
  const file = join(dir, 'exporter.yml');
  writeFileSync(
    file,
    `reader:
  url: ${source.url}
  signals:
    latency: {query: small_latency_seconds, unit: seconds}
    many: {query: many_latency_seconds, unit: seconds}
scheduler: {step: 1s, infer_every: 30s, fit_window: 2m, fit_every: 1h}
server: {listen: "127.0.0.1:${port}"}
`,
  );
  d = spawnCli(['run', '--config', file], `http://127.0.0.1:${port}`);
  await waitFor('the exporter', async () => (await fetch(`${d.url}/healthz`).catch(() => undefined))?.status === 200, 20_000, 100);
});

afterAll(async () => {
  if (d) await killCli(d);
  await source?.stop();
});

const analyze = (body: object) =>
  fetch(`${d.url}/api/v1/analyze`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('POST /api/v1/analyze against a source with 1,002 series over 49,000 steps', () => {
  const to = Math.floor(Date.now() / 1000) - 60;
  const range = { from: new Date((to - 49_000) * 1000).toISOString(), to: new Date(to * 1000).toISOString() };

  it.each([
    ['a configured signal', { signal: 'many', ...range }],
    ['a typed query', { query: 'sum by (service) (many_latency_seconds)', ...range }],
  ])('%s: answers 400 with the limit, reading a sliver of the answer, RSS within 100 MB of idle', async (_what, body) => {
    // Idle: after the first cycle has run.
    await new Promise((r) => setTimeout(r, 1500));
    const idle = memoryMb(d.child.pid!).rss;
    const writtenBefore = source.written;
    const res = await analyze(body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/more than 50 series \(the Analyse limit: at most 50\)/);
    const { peak } = memoryMb(d.child.pid!);
    expect(peak - idle).toBeLessThan(100);
    // The whole answer is 2.4 GB; what was sent before the exporter hung up is a few MB.
    expect(source.written - writtenBefore).toBeLessThan(64 * 1024 * 1024);
    // The exporter goes on serving.
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
  });

  it('runs one analysis at a time: a second one meanwhile gets 429 with Retry-After', async () => {
    const small = { signal: 'latency', ...range };
    const requestsBefore = source.requests;
    const first = analyze(small);
    // The first analysis is under way once its read reaches the source (its scoring takes seconds).
    await waitFor('the first analysis reading', async () => source.requests > requestsBefore, 10_000, 5);
    const second = await analyze(small);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('5');
    const done = await first;
    expect(done.status).toBe(200);
    expect((await done.text()).trim().split('\n').pop()).toMatch(/"type":"done","series":2/);
  });
});
