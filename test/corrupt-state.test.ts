/**
 * The built exporter started on saved model state with random bytes flipped (fast-check): it
 * always starts, restores or drops what it can, keeps answering /healthz within a second while
 * it scores against a live source, and stops on SIGTERM. A flipped byte in a forest once made a
 * node its own child: the restore spun at 100 % and /healthz and SIGTERM went unanswered.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http, { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import fc from 'fast-check';
import { silentLogger } from '../common/logger';
import { parseConfig } from '../exporter/config/config';
import { ScoringPipeline } from '../exporter/cycle/scoring-pipeline';
import { MemoryReader } from '../exporter/read/memory-reader';
import { StateStore } from '../exporter/state/state-store';
import { freePort, waitFor } from './stack';

jest.setTimeout(240_000);

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');
const STEP = 5;
const SIGNALS = { latency_q: (t: number) => 0.2 + 0.05 * Math.sin(t / 600), traffic_q: (t: number) => 50 + 10 * Math.cos(t / 900) };
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

let source: Server;
let sourceUrl: string;
let template: string;

function config(stateDir: string, listen: string): string {
  return `reader:
  url: ${sourceUrl}
  timeout: 2s
  retries: 0
  signals:
    latency: {query: latency_q, direction: above}
    traffic: {query: traffic_q}
scheduler: {step: ${STEP}s, infer_every: ${STEP}s}
state: {dir: ${stateDir}}
server: {listen: "${listen}"}
logging: {level: info}
`;
}

/** A query_range source answering every range with the same functions of time, for services a and b. */
function startSource(port: number): Promise<Server> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const p = new URLSearchParams(body);
      const f = SIGNALS[p.get('query') as keyof typeof SIGNALS];
      const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(p.get(k)));
      const values: [number, string][] = [];
      for (let t = Math.ceil(start / step) * step; t <= end; t += step) values.push([t, String(f ? f(t) : 0)]);
      const result = ['a', 'b'].map((service, k) => ({
        metric: { service },
        values: values.map(([t, v]): [number, string] => [t, String(Number(v) * (1 + k))]),
      }));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** Saved state of both signals, trained in process on the source's functions up to now. */
async function writeTemplate(dir: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000 / STEP) * STEP;
  const reader = new MemoryReader();
  const ts = Float64Array.from({ length: 2000 }, (_, i) => now - (1999 - i) * STEP);
  for (const [query, f] of Object.entries(SIGNALS)) {
    reader.set(
      query,
      ['a', 'b'].map((service, k) => ({ labels: { service }, timestamps: ts, values: Float64Array.from(ts, (t) => f(t) * (1 + k)) })),
    );
  }
  const p = new ScoringPipeline(parseConfig(config(dir, '127.0.0.1:0'), 't.yml'), reader, silentLogger());
  await p.runOnce(new Date(now * 1000), new AbortController().signal);
  const store = new StateStore(dir, silentLogger());
  for (const s of p.exportState()) await store.save(s);
}

interface Started {
  child: ChildProcess;
  url: string;
  logs: string[];
}

async function startExporter(stateDir: string): Promise<Started> {
  const port = await freePort();
  const file = join(stateDir, '..', 'anomaly-exporter.yml');
  writeFileSync(file, config(stateDir, `127.0.0.1:${port}`));
  const child = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  child.stdout!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  return { child, url: `http://127.0.0.1:${port}`, logs };
}

/** Kills the exporter if it still runs and waits for it, so no pipe outlives the test. */
async function kill(e: Started): Promise<void> {
  if (e.child.exitCode !== null || e.child.signalCode !== null) return;
  const exited = new Promise((r) => e.child.once('exit', r));
  e.child.kill('SIGKILL');
  await exited;
}

async function healthzMs(url: string): Promise<number> {
  const t = Date.now();
  const r = await axios.get(`${url}/healthz`, { timeout: 1000, validateStatus: () => true });
  if (r.status !== 200) throw new Error(`/healthz answered ${r.status}`);
  return Date.now() - t;
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  const port = await freePort();
  sourceUrl = `http://127.0.0.1:${port}`;
  source = await startSource(port);
  template = join(mkdtempSync(join(tmpdir(), 'ae-corrupt-')), 'state');
  await writeTemplate(template);
});

afterAll(async () => {
  source?.closeAllConnections();
  await new Promise((resolve) => source?.close(resolve));
});

describe('exporter started on corrupted model state', () => {
  it('the uncorrupted state restores every series and scores on', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ae-corrupt-')), 'state');
    cpSync(template, dir, { recursive: true });
    const e = await startExporter(dir);
    try {
      await waitFor(
        'both signals restored',
        async () => e.logs.filter((l) => l.includes('model state restored') && l.includes('"series":2')).length === 2,
        15_000,
        100,
      );
      await waitFor(
        'scores',
        async () => ((await axios.get(`${e.url}/metrics`)).data as string).includes('anomaly_score{service="b",signal="traffic",model="ensemble"}'),
        40_000,
      ).catch(async (err) => {
        const m = ((await axios.get(`${e.url}/metrics`)).data as string)
          .split('\n')
          .filter((l) => l.startsWith('anomaly_'))
          .slice(0, 30);
        throw new Error(`${(err as Error).message}\n${m.join('\n')}\n${e.logs.join('\n')}`);
      });
    } finally {
      await kill(e);
    }
  });

  it('always starts, answers /healthz within a second throughout, and stops on SIGTERM, whatever bytes are flipped', async () => {
    const files = readdirSync(template).filter((f) => f.endsWith('.state.ndjson'));
    expect(files.length).toBe(2);
    const texts = files.map((f) => readFileSync(join(template, f), 'latin1'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            file: fc.nat(files.length - 1),
            at: fc.double({ min: 0, max: 1, noNaN: true }),
            to: fc.oneof(
              fc.constantFrom(...BASE64),
              fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)),
            ),
          }),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        async (flips) => {
          const dir = join(mkdtempSync(join(tmpdir(), 'ae-corrupt-')), 'state');
          cpSync(template, dir, { recursive: true });
          const bytes = texts.map((t) => t.split(''));
          for (const f of flips) {
            const b = bytes[f.file];
            b[Math.min(b.length - 1, Math.floor(f.at * b.length))] = f.to;
          }
          files.forEach((f, k) => writeFileSync(join(dir, f), bytes[k].join(''), 'latin1'));
          const e = await startExporter(dir);
          try {
            await waitFor('the exporter to listen', async () => (await healthzMs(e.url)) >= 0, 15_000, 50);
            // Restore has run for both signals (restored, or the file or a series dropped with a warning).
            await waitFor(
              'a first scoring cycle',
              async () => ((await axios.get(`${e.url}/metrics`, { timeout: 1000 })).data as string).includes('anomaly_exporter_source_up 1'),
              40_000,
              100,
            );
            // Scoring goes on with whatever was restored: /healthz answers within a second every time.
            for (let i = 0; i < 8; i++) {
              expect(await healthzMs(e.url)).toBeLessThan(1000);
              await new Promise((r) => setTimeout(r, 100));
            }
            const exited = new Promise<number | null>((resolve) => e.child.once('exit', (code) => resolve(code)));
            e.child.kill('SIGTERM');
            const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('no exit within 5 s'), 5000))]);
            expect(code).toBe(0);
            expect(e.logs.join('\n')).not.toMatch(/uncaught|unhandled/i);
          } finally {
            await kill(e);
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});
