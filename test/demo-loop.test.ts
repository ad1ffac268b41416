/**
 * `npm run demo -- --json --fault all`, as a user runs it (the compiled script in a child process),
 * then Ctrl-C once it says it keeps running: the whole loop on real Prometheus and Alertmanager,
 * every step read from its component, within the demo's targets, every page's URL, and every
 * process it started gone afterwards. One demo run for all of it (a second stack costs a minute
 * of the suite); `--once` is run by test/victoria-metrics-e2e.test.ts.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STEPS } from '../demo/loop-timeline';

/** The temporary directories the demo makes (Prometheus, Alertmanager, backfill, its own). */
const demoTemp = () => new Set(readdirSync(tmpdir()).filter((n) => /^(ae-om-|ae-prom-|ae-am-|anomaly-demo-)/.test(n)));

jest.setTimeout(420_000);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the demo; with `interruptWhen`, sends SIGINT (Ctrl-C) once its output contains that text. */
function runDemo(args: string[], interruptWhen?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'demo', 'run-demo.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const watch = () => {
      if (interruptWhen && !interrupted && (stdout + stderr).includes(interruptWhen)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      watch();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      watch();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const pidsIn = (text: string) => [...new Set([...text.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])))];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo -- --json --fault all, then Ctrl-C', () => {
  let result: Result;
  let out: { ok: boolean; loops: Record<string, unknown>[]; episodes_before_fault: number };
  let leftovers: string[];
  beforeAll(async () => {
    const before = demoTemp();
    result = await runDemo(['--json', '--fault', 'all'], 'Ctrl-C stops everything');
    leftovers = [...demoTemp()].filter((n) => !before.has(n));
    process.stdout.write(`demo stderr:\n${result.stderr}\n`);
    out = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}');
  });

  it('prints only the JSON on stdout and leaves no temporary files', () => {
    expect(() => JSON.parse(result.stdout)).not.toThrow();
    expect(leftovers).toEqual([]);
  });
  /** The loop's steps in order, as the demo's timeline names them. */
  const order = STEPS.map(([key]) => key);

  it('exits 0 with ok: one loop per fault type, each with every step in loop order', () => {
    expect(result.code).toBe(0);
    expect(out.ok).toBe(true);
    expect(out.loops.map((l) => [(l.fault as { type: string }).type, l.signal])).toEqual([
      ['latency', 'latency'],
      ['errors', 'errors'],
      ['traffic_drop', 'traffic'],
    ]);
    for (const loop of out.loops) {
      expect(loop.ok).toBe(true);
      const times = order.map((k) => loop[k] as number);
      for (const t of times) expect(typeof t).toBe('number');
      // Polled steps are seen within a poll (250 ms) of each other's records.
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1] - 0.5);
      expect(loop.decision).toMatch(/^executed/);
      expect(loop.action).toMatch(/^succeeded: http: POST http:\/\/127\.0\.0\.1:\d+\/admin\/restart → 200/);
    }
  });

  it('raises no false alarm: no episode before the first fault, none but its own during each', () => {
    expect(out.episodes_before_fault).toBe(0);
    for (const loop of out.loops) expect(loop.other_episodes).toBe(0);
  });

  it('meets the demo targets on every fault type: detect < 20 s, act < 45 s, resolve < 120 s', () => {
    for (const loop of out.loops) {
      expect(loop.detect_seconds).toBe(loop.score_above_1);
      expect(loop.action_seconds).toBe(loop.action_executed);
      expect(loop.resolve_seconds).toBe(loop.alert_resolved);
      expect(loop.detect_seconds as number).toBeLessThan(20);
      expect(loop.action_seconds as number).toBeLessThan(45);
      expect(loop.resolve_seconds as number).toBeLessThan(120);
    }
  });

  it('prints the live timeline and stops every process it started', () => {
    expect(result.stderr).toMatch(/fault injected/);
    expect(result.stderr).toMatch(/a 50 % traffic drop into checkout/);
    expect(result.stderr).toMatch(/time to recover/);
    // The text output states the false alarms too, not only --json.
    expect(result.stderr.match(/\nfalse alarms: 0 /g)).toHaveLength(3);
    const pids = pidsIn(result.stderr);
    expect(pids.length).toBe(5);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it("prints every page's URL after the loop, and Ctrl-C says what it stops and stops every process it started", () => {
    for (const page of ['exporter', 'receiver', 'prometheus', 'alertmanager', 'demo service'])
      expect(result.stderr).toMatch(new RegExp(`\\n  ${page} +http://127\\.0\\.0\\.1:\\d+/`));
    expect(result.stderr).toMatch(/\nCtrl-C: stopping demo service \(pid \d+\), .*\nstopped; the temporary files are removed\.\n$/);
    const pids = pidsIn(result.stderr);
    expect(pids.length).toBe(5);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('refuses an unknown fault type with exit code 2 and the types it knows', async () => {
    const r = await runDemo(['--once', '--fault', 'latency,fire']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--fault: fire is not a fault type; use latency, errors, traffic_drop, traffic_surge/);
    const unknown = await runDemo(['--once', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^demo: Unknown option '--bogus'/);
  });
});
