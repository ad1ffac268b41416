/**
 * `npm run demo -- --once --json`, as a user runs it (the compiled script in a child process):
 * the whole loop on real Prometheus and Alertmanager, every step read from its component, within
 * the demo's targets, and every process it started gone afterwards.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

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

const pidsIn = (text: string) => [...text.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo -- --once --json', () => {
  let result: Result;
  let timeline: Record<string, unknown>;
  beforeAll(async () => {
    result = await runDemo(['--once', '--json']);
    process.stdout.write(`demo stderr:\n${result.stderr}\n`);
    timeline = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}');
  });

  it('exits 0 with ok: every step of the loop happened, in loop order', () => {
    expect(result.code).toBe(0);
    expect(timeline.ok).toBe(true);
    const order = [
      'score_above_1',
      'alert_firing',
      'alertmanager_received',
      'alert_delivered',
      'action_decided',
      'action_executed',
      'service_recovered',
      'alert_resolved',
    ];
    const times = order.map((k) => timeline[k] as number);
    for (const t of times) expect(typeof t).toBe('number');
    // Polled steps are seen within a poll (250 ms) of each other's records.
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1] - 0.5);
    expect(timeline.decision).toMatch(/^executed/);
    expect(timeline.action).toMatch(/^succeeded: http: POST http:\/\/127\.0\.0\.1:\d+\/admin\/restart → 200/);
    // No false alarm: the only episode is the fault's own.
    expect(timeline.episodes_before_fault).toBe(0);
    expect(timeline.other_episodes).toBe(0);
  });

  it('meets the demo targets: detect < 20 s, act < 45 s, resolve < 120 s', () => {
    expect(timeline.detect_seconds).toBe(timeline.score_above_1);
    expect(timeline.action_seconds).toBe(timeline.action_executed);
    expect(timeline.resolve_seconds).toBe(timeline.alert_resolved);
    expect(timeline.detect_seconds as number).toBeLessThan(20);
    expect(timeline.action_seconds as number).toBeLessThan(45);
    expect(timeline.resolve_seconds as number).toBeLessThan(120);
  });

  it('prints the live timeline and stops every process it started', () => {
    expect(result.stderr).toMatch(/fault injected/);
    expect(result.stderr).toMatch(/time to recover/);
    const pids = pidsIn(result.stderr);
    expect(pids.length).toBe(5);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});

describe('npm run demo (kept running)', () => {
  it("prints every page's URL after the loop, and Ctrl-C stops every process it started", async () => {
    const r = await runDemo([], 'Ctrl-C stops everything');
    expect(r.code).toBe(0);
    for (const page of ['exporter', 'receiver', 'prometheus', 'alertmanager', 'demo service'])
      expect(r.stdout).toMatch(new RegExp(`\\n  ${page} +http://127\\.0\\.0\\.1:\\d+/`));
    const pids = pidsIn(r.stdout);
    expect(pids.length).toBe(5);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
