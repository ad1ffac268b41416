/** The demo's flags: USAGE lists exactly the flags it reads; --help and unknown flags answer before anything starts. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DEMO_FLAGS, parseFaults, readDemoArgs, USAGE } from './run-demo';

const ROOT = join(__dirname, '..');
const demoScript = (...args: string[]) => spawnSync('bash', [join(ROOT, 'scripts', 'demo.sh'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });

describe('npm run demo flags', () => {
  it('USAGE lists exactly the flags the demo reads', () => {
    const listed = [...USAGE.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(Object.keys(DEMO_FLAGS).sort());
  });

  it('reads flags strictly: an unknown one or a missing value is a reason, not ignored', () => {
    expect(readDemoArgs(['--once', '--fault', 'errors'])).toEqual({ once: true, fault: 'errors' });
    expect(readDemoArgs(['--onse'])).toMatch(/Unknown option '--onse'/);
    expect(readDemoArgs(['--fault'])).toMatch(/argument missing/);
  });

  it('--fault all runs the faults a restart fixes; traffic_surge by name, with its own end', () => {
    expect((parseFaults('all') as { type: string }[]).map((f) => f.type)).toEqual(['latency', 'errors', 'traffic_drop']);
    expect(parseFaults('traffic_surge')).toEqual([{ service: 'checkout', type: 'traffic_surge', magnitude: 4, durationSeconds: 90 }]);
  });

  it('scripts/demo.sh: --help prints USAGE (exit 0) and an unknown flag exits 2, before installing or starting anything', () => {
    const help = demoScript('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(USAGE);
    const bad = demoScript('--once', '--bogus');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^demo: unknown option '--bogus'\n\nUsage: npm run demo/);
    expect(demoScript('--fault').status).toBe(2);
  });
});
